"""Where a training process's CPU time went, from a Linux `perf record` file, in a few buckets.

    perf record -F 299 -o epoch.data -- python -m stages.train ...   # every thread of the process
    python -m bench.perf_buckets epoch.data

The buckets follow the libraries: oneDNN's and XLA's generated kernels run from anonymous memory
("[JIT]"), TensorFlow's executor and Eigen from its shared libraries, Keras' loop in Python.
"""

import argparse
import collections
import re
import subprocess

BUCKETS = (  # first match wins: (name, dso pattern, symbol pattern)
    ("thread pools waiting or stealing work", r"", r"futex|sched_yield|WaitForWork|nsync|Steal|PopBack|Notifier"),
    ("kernel (scheduling, page faults)", r"^\[kernel", r""),
    ("generated kernels: oneDNN matmuls, XLA's compiled step", r"^\[JIT\]|^\[unknown\]|^//anon", r""),
    ("oneDNN (library code)", r"", r"dnnl|brgemm|jit_uni|jit_avx"),
    ("Eigen matmul", r"", r"gebp|gemm_pack|TensorContraction|EigenMatMul"),
    ("augmentation (image transform)", r"", r"ProjectiveGenerator|ImageProjectiveTransform"),
    ("Eigen element-wise and reductions", r"", r"Eigen::"),
    ("Python: garbage collector", r"python", r"gc_collect|visit_|subtract_refs|update_refs|move_unreachable"),
    ("Python: interpreter (Keras' loop, callbacks)", r"python", r""),
    ("memory copies and allocation", r"", r"memcpy|memmove|memset|malloc|free|operator new|operator delete"),
    ("TensorFlow runtime (graph executor, op dispatch)", r"tensorflow|_pywrap", r""),
)


def samples(data: str) -> list[tuple[float, str, str]]:
    report = subprocess.run(
        ["perf", "report", "-i", data, "--no-children", "-g", "none", "--percent-limit", "0", "--stdio"]
        + ["-F", "overhead,dso,sym", "-t", "|"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in report.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].strip().endswith("%"):
            rows.append((float(parts[0].strip().rstrip("%")), parts[1].strip(), parts[2].strip()))
    return rows


def bucket(dso: str, symbol: str) -> str:
    for name, dso_pattern, symbol_pattern in BUCKETS:
        if (not dso_pattern or re.search(dso_pattern, dso)) and (
            not symbol_pattern or re.search(symbol_pattern, symbol)
        ):
            return name
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a perf.data file")
    parser.add_argument("--top", type=int, default=8, help="also list the N costliest symbols")
    arguments = parser.parse_args()
    rows = samples(arguments.data)
    shares = collections.Counter()
    for share, dso, symbol in rows:
        shares[bucket(dso, symbol)] += share
    for name, share in shares.most_common():
        print(f"{share:5.1f}%  {name}")
    for share, dso, symbol in sorted(rows, reverse=True)[: arguments.top]:
        print(f"  {share:5.2f}%  {dso[:28]:28} {symbol[4:110]}")


if __name__ == "__main__":
    main()
