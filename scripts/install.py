"""The project's environment, .venv, from the lock file of the machine it runs on (what `make` runs first).

    python3 scripts/install.py                  # create .venv, or bring it up to date; a no-op when it is
    python3 scripts/install.py --gpu 1          # the CUDA build instead (Linux x86-64): rebuilds .venv
    python3 scripts/install.py --python python3.12   # another interpreter: rebuilds a .venv of another version
    python3 scripts/install.py --dry-run        # print what would run

One lock file per platform, each good for every Python in PYTHONS (scripts/lock.py writes them).
.venv/installed names the lock .venv came from. Without --gpu, the build .venv has is kept; a switch
between the CPU and the CUDA build rebuilds .venv from scratch (tensorflow-cpu and tensorflow[and-cuda]
install the same package and cannot be swapped). uv, where it is installed, puts the pinned and
hashed wheels in place in seconds (pip: a minute or two); both compile the bytecode at install time,
as nothing else would where PYTHONDONTWRITEBYTECODE is set (about 5 s of every stage's start
otherwise). The project itself is installed editable, so `import rnncompare` and the `rnncompare`
command work from any directory. Standard library only: it runs before .venv exists.
"""

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12", "3.13")
CPU_LOCKS = {
    ("Linux", "x86_64"): "requirements.lock",
    ("Linux", "aarch64"): "requirements-linux-aarch64.lock",
    ("Darwin", "arm64"): "requirements-macos-arm64.lock",
}
GPU_LOCK = "requirements-gpu.lock"  # tensorflow[and-cuda]: Linux x86-64 only


class Refused(Exception):
    """Nothing can be installed here; the message says why and what would work."""


def wanted_lock(system: str, machine: str, gpu: str | None, installed_from: str | None) -> str:
    """The lock for this platform: the CUDA one with --gpu 1, the CPU one with --gpu 0, else the build
    .venv already has."""
    cpu = CPU_LOCKS.get((system, machine))
    if gpu is None:
        gpu = "1" if installed_from == GPU_LOCK else "0"
    if gpu == "1":
        if (system, machine) != ("Linux", "x86_64"):
            raise Refused(
                f"GPU=1 needs Linux x86-64 ({GPU_LOCK}); this is {system}-{machine}: use GPU=0 for the CPU build."
            )
        return GPU_LOCK
    if cpu is None:
        have = ", ".join(f"{s}-{m} ({lock})" for (s, m), lock in CPU_LOCKS.items())
        raise Refused(
            f"No lock file for {system}-{machine} (uname -s and -m). There are lock files for {have}. To make "
            "one: add the platform to CPU_LOCKS in scripts/install.py and to PLATFORMS in scripts/lock.py, then "
            "run make lock."
        )
    return cpu


def version_of(python: str) -> str | None:
    """`3.11` for an interpreter, or None when it does not run."""
    try:
        found = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
    except OSError:
        return None
    return found.stdout.strip() if found.returncode == 0 else None


def installed_from(venv: Path) -> str | None:
    """The lock .venv came from (an empty stamp, written before stamps named it: the CPU lock)."""
    stamp = venv / "installed"
    if not stamp.is_file():
        return None
    return stamp.read_text().strip() or CPU_LOCKS.get((platform.system(), platform.machine()))


def up_to_date(venv: Path, lock: str) -> bool:
    """The stamp names `lock` and is newer than it and pyproject.toml."""
    stamp = venv / "installed"
    if installed_from(venv) != lock or not (venv / "bin" / "python").exists():
        return False
    return all(stamp.stat().st_mtime >= (ROOT / name).stat().st_mtime for name in (lock, "pyproject.toml"))


def commands(venv: Path, python: str, lock: str, rebuild: bool, uv: str | None) -> list[list[str]]:
    """What installs .venv from `lock`."""
    target = venv / "bin" / "python"
    if uv:
        install = [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(target)]
    else:
        install = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    editable = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    return [
        [python, "-m", "venv", *(["--clear"] if rebuild else []), str(venv)],
        [*install, "--require-hashes", "--no-deps", "-r", lock],
        [*editable, "--no-build-isolation", "-e", "."],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=Path(".venv"))
    parser.add_argument("--python", help="the interpreter to create .venv with (default: python3, or .venv's own)")
    parser.add_argument("--gpu", choices=["0", "1"], help="1: the CUDA build; 0: the CPU build (default: .venv's)")
    parser.add_argument("--system", default=platform.system(), help="as `uname -s` prints it (for tests)")
    parser.add_argument("--machine", default=platform.machine(), help="as `uname -m` prints it (for tests)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run none")
    arguments = parser.parse_args()
    os.chdir(ROOT)
    venv = arguments.venv if arguments.venv.is_absolute() else ROOT / arguments.venv
    before = installed_from(venv)
    try:
        lock = wanted_lock(arguments.system, arguments.machine, arguments.gpu, before)
    except Refused as refused:
        sys.exit(str(refused))
    python = arguments.python or "python3"
    reasons = []
    if before and before != lock:
        reasons.append(f"{venv} came from {before}; rebuilding it from {lock}")
    current = version_of(str(venv / "bin" / "python")) if (venv / "bin" / "python").exists() else None
    if arguments.python and current and version_of(python) != current:
        reasons.append(f"{venv} is Python {current}; rebuilding it with {python}")
    if not reasons and up_to_date(venv, lock):
        print(f"{venv} is up to date ({lock})")
        return
    for reason in reasons:
        print(reason, flush=True)
    version = version_of(python)
    if version not in PYTHONS:
        sys.exit(
            f"{python} is Python {version or '(not found)'}: the lock files are for Python {' '.join(PYTHONS)}; "
            "name one, e.g. make PYTHON=python3.12"
        )
    uv = shutil.which("uv")
    steps = commands(venv, python, lock, rebuild=bool(reasons), uv=uv)
    for step in steps:
        print(shlex.join(step), flush=True)
        if not arguments.dry_run:
            subprocess.run(step, check=True)
    if not arguments.dry_run:
        (venv / "installed").write_text(lock + "\n")


if __name__ == "__main__":
    main()
