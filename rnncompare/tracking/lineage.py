"""Where a result came from: the git commit, the DVC stage and its locked hashes, the pipeline
execution it belongs to, and the versions of the tools that made it."""

import hashlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import yaml

from rnncompare.core.repository import BASELINE_VARIABLE, EXPERIMENT_VARIABLE

TOOLS = ("tensorflow", "keras", "dvc", "mlflow", "numpy")


# What the pipeline writes into git-tracked files (dvc.lock, metrics) is its output, not a change
# of its inputs: it makes no tree dirty and is left out of the logged diff.
INPUTS_ONLY = (".", ":(exclude)dvc.lock", ":(exclude)tutorials/dvc.lock", ":(exclude)metrics")
CODE_ROOT = Path(__file__).resolve().parents[2]  # the checkout whose code runs, wherever the stage's cwd


def _git(*arguments: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *arguments], cwd=CODE_ROOT, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def git_state() -> dict[str, str]:
    """The commit of the code that runs, and whether tracked files differ from it."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"git.commit": "none (not a git checkout)"}
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", *INPUTS_ONLY)
    return {"git.commit": commit, "git.dirty": str(bool(dirty)).lower(), "mlflow.source.git.commit": commit}


def experiment() -> dict[str, str]:
    """The DVC experiment this stage runs in, as tags; empty outside `dvc exp run`."""
    name = os.environ.get(EXPERIMENT_VARIABLE)
    if not name:
        return {}
    return {"dvc.experiment": name, "dvc.experiment.baseline": os.environ.get(BASELINE_VARIABLE, "")}


def working_tree_diff() -> str:
    """`git diff HEAD` of the code that runs: what a dirty tree changed against its commit."""
    return _git("diff", "HEAD", "--binary", "--", *INPUTS_ONLY) or ""


def reproduce_command(git: dict[str, str], stages: list[str], diff_name: str) -> str:
    """The command that reproduces this run: from its experiment, its commit, or its commit plus
    the working tree's diff (logged as the run's artifact `diff_name`)."""
    repro = f"dvc repro {' '.join(stages)}"
    found = experiment()
    if found:
        return f"dvc exp apply {found['dvc.experiment']} && {repro}"
    commit = git["git.commit"]
    if git.get("git.dirty") == "true":
        return f"git checkout {commit} && git apply {diff_name} && {repro}"
    return f"git checkout {commit} && {repro}"


def versions() -> dict[str, str]:
    found = {"versions.python": platform.python_version()}
    for tool in TOOLS:
        for distribution in (tool, f"{tool}-cpu"):
            try:
                found[f"versions.{tool}"] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return found


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    """The hash DVC records for a file in dvc.lock."""
    return _file_digest(path, "md5")


def file_sha256(path: Path) -> str:
    return _file_digest(path, "sha256")


LOCK_FILES = (Path("dvc.lock"), Path("tutorials/dvc.lock"))


def locked_stage_of(output: Path) -> dict[str, str]:
    """The dvc.lock entry of the stage that wrote `output`, as tags: the stage name, and the md5
    of each of its dependencies (code, data) and outputs, and of its params (`dvc.lock.<path>`).

    DVC writes a stage's entry as soon as the stage succeeds, so a later stage (evaluate) reads
    the entry of the training that made the model it evaluates. Empty outside a DVC run."""
    for lock_file in LOCK_FILES:
        if not lock_file.is_file():
            continue
        for stage, entry in (yaml.safe_load(lock_file.read_text()) or {}).get("stages", {}).items():
            if any(Path(item["path"]) == Path(output) for item in entry.get("outs", [])):
                return {"dvc.lock.stage": stage, "dvc.lock.file": str(lock_file), **_hashes(entry)}
    return {}


def _hashes(entry: dict) -> dict[str, str]:
    hashes = {}
    for item in [*entry.get("deps", []), *entry.get("outs", [])]:
        hashes[f"dvc.lock.{item['path']}"] = item.get("md5") or item.get("hash", "")
    params = entry.get("params", {})
    if params:
        text = yaml.safe_dump(params, sort_keys=True).encode()
        hashes["dvc.lock.params"] = hashlib.md5(text).hexdigest()
    return hashes
