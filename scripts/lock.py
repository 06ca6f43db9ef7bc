"""Every lock file from pyproject.toml (`make lock`; needs uv: `pip install uv`).

Each lock is resolved for the oldest Python in PYTHONS, then again for each newer one with the lock
as constraints: the same packages, each with a wheel for it (--only-binary; uv's hashes cover every
file of a pinned version), so one lock serves every Python. The other locks take requirements.lock's
versions: every platform runs the same code. A lock is resolved in a copy (uv keeps the copy's pins)
and replaces the file only if it changed: an unchanged lock keeps its date, so the next `make`
keeps .venv. antlr4-python3-runtime (DVC's Hydra) publishes a source distribution only, pure Python.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from install import PYTHONS  # noqa: E402  scripts/install.py

ROOT = Path(__file__).resolve().parents[1]
# lock file: (uv's platform, the extra with TensorFlow's build). Linux with glibc 2.28 or later
# (x86-64, aarch64), macOS 13 or later on Apple silicon.
PLATFORMS = {
    "requirements.lock": ("x86_64-manylinux_2_28", "cpu"),
    "requirements-gpu.lock": ("x86_64-manylinux_2_28", "gpu"),
    "requirements-linux-aarch64.lock": ("aarch64-manylinux_2_28", "cpu"),
    "requirements-macos-arm64.lock": ("aarch64-apple-darwin", "cpu"),
}
COMPILE = [
    "uv", "pip", "compile", "pyproject.toml", "--extra", "dev", "--generate-hashes", "--quiet",
    "--only-binary", ":all:", "--no-binary", "antlr4-python3-runtime", "--custom-compile-command", "make lock",
]  # fmt: skip


def pins(path: Path) -> list[str]:
    """A lock's `name==version` lines."""
    return [line.split()[0] for line in path.read_text().splitlines() if line[:1].isalnum()]


def resolve(lock: str, uv_platform: str, extra: str, folder: Path) -> Path:
    """The lock for every Python of PYTHONS, resolved in `folder`; an error if one would need other pins."""
    draft = folder / "lock"
    if (ROOT / lock).is_file():
        shutil.copyfile(ROOT / lock, draft)
    base = [*COMPILE, "--python-platform", uv_platform, "--extra", extra]
    constraints = ["-c", "requirements.lock"] if lock != "requirements.lock" else []
    subprocess.run([*base, "--python-version", PYTHONS[0], *constraints, "-o", str(draft)], cwd=ROOT, check=True)
    for python in PYTHONS[1:]:
        other = folder / python
        command = [*base, "--python-version", python, "-c", str(draft), "--no-header", "-o", str(other)]
        subprocess.run(command, cwd=ROOT, check=True)
        if pins(other) != pins(draft):
            needed = sorted(set(pins(other)) - set(pins(draft)))
            sys.exit(f"{lock} does not hold for Python {python}: it would need {', '.join(needed)}")
    return draft


def main() -> None:
    if shutil.which("uv") is None:
        sys.exit("make lock needs uv: pip install uv")
    os.environ.setdefault("MACOSX_DEPLOYMENT_TARGET", "13.0")
    for lock, (uv_platform, extra) in PLATFORMS.items():
        print(f"{lock}: {uv_platform}, Python {' '.join(PYTHONS)}", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            draft = resolve(lock, uv_platform, extra, Path(folder))
            if (ROOT / lock).is_file() and draft.read_bytes() == (ROOT / lock).read_bytes():
                print(f"{lock}: unchanged")
            else:
                shutil.copyfile(draft, ROOT / lock)


if __name__ == "__main__":
    main()
