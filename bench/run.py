"""`make bench`: training throughput of every variant through the project's real model and training
code, next to the same models in plain PyTorch timed in the same run; plus the CPU's vector
features, the cores training kept busy, a no-op `dvc repro`, the share of training time that
MLflow logging takes, and where the time of the last `dvc repro`'s stages went.

MNIST-shaped inputs (28 rows of 28), hidden 128, batch 128, the default optimizer (params.yaml
train.mnist); one recurrent layer, no dropout or augmentation, so both sides compute the same
model. Each figure is the median of --repeats passes of --steps batches, after a warm-up pass
(which also compiles); project and PyTorch passes alternate, and the ratio is the median of
the pairs' ratios. Results: printed, and written as JSON (--out) to compare runs.
"""

import argparse
import contextlib
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from rnncompare.config.params import load_params
from rnncompare.core import stagetimes
from rnncompare.models.build import build_model
from rnncompare.training import device
from rnncompare.training.fit import compile_model

BATCH = 128
UNITS = 128


VECTOR_FEATURES = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
# Caps that make the same host run AVX2-only code (oneDNN's kernels, XLA's generated code); the
# TensorFlow wheel's own Eigen kernels are compiled for AVX2 at most either way.
ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "XLA_FLAGS")


def cpu_description() -> dict:
    """The CPU's model, the vector features training can use, the cores this process may run on."""
    model, flags = platform.processor() or platform.machine(), set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    return {
        "cpu": model,
        "vector_features": [feature for feature in VECTOR_FEATURES if feature in flags],
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "isa_caps": {name: os.environ[name] for name in ISA_CAPS if name in os.environ},
    }


def package_versions() -> dict[str, str]:
    """The versions of the frameworks on either side of the ratio, where installed."""
    versions = {}
    for name in ("keras", "tensorflow", "jax", "jaxlib", "torch"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions


def seconds_per_pass(one_pass) -> tuple[float, float]:
    """Wall and CPU seconds (every thread of this process) of one pass."""
    started, cpu_started = time.perf_counter(), time.process_time()
    one_pass()
    return time.perf_counter() - started, time.process_time() - cpu_started


def timed_passes(passes: dict, repeats: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Seconds of each pass, `repeats` times, after a warm-up of each (compilation, allocation), and
    the cores each side kept busy (CPU seconds per wall second).

    The passes alternate, so a slow spell of a shared host falls on both sides of a ratio: on 2
    shared cores one side's speed swung by up to 1.8x between runs minutes apart."""
    for one_pass in passes.values():
        one_pass()
    times = {name: [] for name in passes}
    cpu = dict.fromkeys(passes, 0.0)
    for _ in range(repeats):
        for name, one_pass in passes.items():
            wall, cpu_seconds = seconds_per_pass(one_pass)
            times[name].append(wall)
            cpu[name] += cpu_seconds
    return times, {name: round(cpu[name] / sum(times[name]), 2) for name in passes}


def project_pass(model_params, training, images, labels):
    plan = device.execution(model_params)
    device.configure(0, deterministic=False, plan=plan)
    model = build_model("mnist", model_params, training.dropout, cudnn=plan.cudnn)
    compile_model(model, "mnist", training, plan.jit_compile, total_steps=len(images) // BATCH)

    def one_pass():
        model.fit(images, labels, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        # JAX (and TensorFlow on a GPU) may return before the device has finished: wait for a weight.
        keras.ops.convert_to_numpy(model.trainable_variables[0])

    return one_pass, model


def reference_pass(model_params, training, images, labels, on_gpu: bool):
    try:
        from bench.torch_reference import train_steps
    except ImportError:
        return None
    return train_steps(
        model_params.cell, UNITS, model_params.bidirectional, images, labels, BATCH, training.learning_rate, on_gpu
    )


def noop_repro_seconds() -> str | float:
    """`dvc repro` when nothing changed; skipped (with the reason) when something would rebuild."""
    if importlib.util.find_spec("dvc") is None:
        return "skipped: DVC is not installed in this environment"
    dvc = [sys.executable, "-m", "dvc"]  # this environment's DVC, whether or not it is on PATH
    status = subprocess.run([*dvc, "status", "--json", "dvc.yaml"], capture_output=True, text=True)
    if status.returncode or json.loads(status.stdout or "{}"):
        return "skipped: the pipeline is not up to date (run `make repro` first)"
    started = time.perf_counter()
    subprocess.run([*dvc, "repro"], capture_output=True, check=True)
    return round(time.perf_counter() - started, 2)


def mlflow_share(model_params, training, images, labels, epochs: int) -> dict:
    """Train `epochs` epochs with the stage's per-epoch logging into a scratch SQLite store, then
    log the model as the stage does; report each as a share of the training time."""
    import mlflow

    from rnncompare.tracking import model_logging

    with tempfile.TemporaryDirectory() as scratch:
        mlflow.set_tracking_uri(f"sqlite:///{scratch}/mlflow.db")
        # Artifacts in the scratch directory too: by default they would land in ./mlruns.
        mlflow.create_experiment("bench", artifact_location=Path(scratch, "artifacts").as_uri())
        mlflow.set_experiment("bench")
        with mlflow.start_run():
            logger = model_logging.EpochMetrics()
            spent = []
            original = logger.on_epoch_end

            def timed(epoch, logs=None):
                started = time.perf_counter()
                original(epoch, logs)
                spent.append(time.perf_counter() - started)

            logger.on_epoch_end = timed
            one_pass, model = project_pass(model_params, training, images, labels)
            started = time.perf_counter()
            model.fit(images, labels, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[logger])
            training_seconds = time.perf_counter() - started - sum(spent)
            started = time.perf_counter()
            model_logging.log_model(model, images[:2], "mnist")
            model_seconds = time.perf_counter() - started
    return {
        "epochs": epochs,
        "training_seconds": round(training_seconds, 2),
        "epoch_logging_share": round(sum(spent) / training_seconds, 4),
        "model_logging_seconds": round(model_seconds, 2),
    }


def stage_times() -> list[dict]:
    """Print and return where the last `dvc repro`'s stages spent their time (logs/stage-times.jsonl)."""
    stages = stagetimes.last_execution()
    if not stages:
        print(f"stage times: none recorded yet ({stagetimes.LOG} is written by every stage `dvc repro` runs)")
        return []
    print(f"\nThe {len(stages)} stages that ran in the last pipeline execution ({stages[0]['execution']}), seconds:")
    header = ("total", 7), ("start-up", 8), ("1st epoch+", 10), ("epochs", 12), ("fixed", 7), ("cores busy", 10)
    print(f"{'stage':24} " + " ".join(f"{name:>{width}}" for name, width in header))
    for stage in stages:
        epochs = f"{stage['epoch_seconds']:.1f} ({stage['epochs']})" if stage["epochs"] else "-"
        busy = stage["cores_busy_in_epochs"]
        print(
            f"{stage['stage']:24} {stage['seconds']:>7.1f} {stage['startup_seconds']:>8.1f} "
            f"{stage['first_epoch_overhead_seconds']:>10.1f} {epochs:>12} {stage['fixed_seconds']:>7.1f} "
            f"{'-' if busy is None else f'{busy:.2f}':>10}"
        )
    total = {key: sum(stage[key] for stage in stages) for key in ("seconds", "epoch_seconds", "fixed_seconds")}
    print(
        f"{'all':24} {total['seconds']:>7.1f} {'':>8} {'':>10} {total['epoch_seconds']:>12.1f} "
        f"{total['fixed_seconds']:>7.1f}   (DVC's own work between stages not included)"
    )
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", help="default: every variant of params.yaml")
    parser.add_argument("--steps", type=int, default=20, help="batches per timed pass")
    parser.add_argument("--repeats", type=int, default=7, help="timed passes of each side, alternating")
    parser.add_argument("--mlflow-epochs", type=int, default=5, help="0 skips the MLflow measurement")
    parser.add_argument("--out", type=Path, default=Path("bench/latest.json"))
    arguments = parser.parse_args()

    params = load_params()
    training = dataclasses.replace(params.train.mnist, dropout=0.0, augment_shift=0.0, augment_rotation=0.0)
    rng = np.random.default_rng(0)
    images = rng.random((arguments.steps * BATCH, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, arguments.steps * BATCH).astype(np.int32)
    where = device.describe()
    cpu = cpu_description()
    results = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), **cpu, **where}
    results["versions"] = versions = package_versions()
    results["variants"] = {}
    caps = " ".join(f"{name}={value}" for name, value in cpu["isa_caps"].items())
    print(f"CPU: {cpu['cpu']}; {cpu['cores']} cores; {' '.join(cpu['vector_features']) or 'no AVX'}")
    if caps:
        print(f"     capped by {caps}")
    print("Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    print(f"{'variant':8} {'project':>16} {'plain PyTorch':>16} {'ratio':>6} {'cores busy':>11}  device, backend")
    for variant in arguments.variants or list(params.models):
        model_params = dataclasses.replace(params.model(variant), units=UNITS, layers=1)
        one_pass, model = project_pass(model_params, training, images, labels)
        passes = {"project": one_pass}
        reference = reference_pass(model_params, training, images, labels, on_gpu=where["device"] != "cpu")
        if reference:
            passes["reference"] = reference
        times, busy = timed_passes(passes, arguments.repeats)
        project = len(labels) / statistics.median(times["project"])
        entry = {"samples_per_second": round(project), "xla": bool(model.jit_compile), "cores_busy": busy["project"]}
        if reference:
            entry["reference_samples_per_second"] = round(len(labels) / statistics.median(times["reference"]))
            # the median of each pair's ratio: a pair shares its moment's load on the host
            pairs = [ref / own for own, ref in zip(times["project"], times["reference"], strict=True)]
            entry["ratio"] = round(statistics.median(pairs), 2)
            entry["reference_cores_busy"] = busy["reference"]
        results["variants"][variant] = entry
        torch_text = f"{entry['reference_samples_per_second']} samples/s" if reference else "(torch absent)"
        ratio = f"{entry['ratio']:.2f}x" if reference else "—"
        cores = f"{busy['project']:.2f}" + (f" / {busy['reference']:.2f}" if reference else "")
        print(
            f"{variant:8} {round(project):>7} samples/s {torch_text:>16} {ratio:>6} {cores:>11}  "
            f"{where['device']}, {where['backend']}"
        )
        keras.backend.clear_session()
    results["noop_dvc_repro_seconds"] = noop_repro_seconds()
    noop = results["noop_dvc_repro_seconds"]
    print(f"no-op dvc repro: {noop if isinstance(noop, str) else f'{noop} s'}")
    if arguments.mlflow_epochs:
        model_params = dataclasses.replace(params.model("lstm"), units=UNITS, layers=1)
        results["mlflow"] = mlflow_share(model_params, training, images, labels, arguments.mlflow_epochs)
        share = results["mlflow"]
        print(
            f"MLflow: per-epoch logging {share['epoch_logging_share']:.2%} of training time; "
            f"logging the model {share['model_logging_seconds']} s once per stage"
        )
    results["last_repro_stages"] = stage_times()
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
