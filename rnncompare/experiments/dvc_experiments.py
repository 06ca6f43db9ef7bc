"""DVC's experiments as this project runs and reads them: `dvc` with its progress on the terminal,
the finished experiments of a commit (DVC's git refs, `refs/exps/<baseline>/<name>`), and what an
experiment's commit holds (git for the params and metrics, the DVC cache for the other outputs)."""

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rnncompare.config.params import Params, load_params, read_yaml
from rnncompare.core.errors import PipelineError

# What the pipeline writes into git-tracked files: an experiment's outputs, not its inputs.
OUTPUTS = ("dvc.lock", "metrics", "tutorials/dvc.lock")


@dataclass(frozen=True)
class Experiment:
    name: str
    commit: str
    baseline: str  # the commit it ran on


def dvc(*arguments: str) -> None:
    """Run dvc with its output streaming to the terminal (progress, the queue's logs)."""
    completed = subprocess.run(["dvc", *arguments])
    if completed.returncode:
        raise PipelineError(f"`dvc {' '.join(arguments)}` failed (exit {completed.returncode}); its output is above.")


def git(*arguments: str) -> str:
    return subprocess.run(["git", *arguments], capture_output=True, text=True, check=True).stdout


def head() -> str:
    return git("rev-parse", "HEAD").strip()


def untracked_files() -> list[str]:
    """Files git neither tracks nor ignores (a new cell module not yet added): an experiment in a
    temporary copy gets them only through `--copy-paths`."""
    return git("ls-files", "--others", "--exclude-standard").splitlines()


def experiments() -> list[Experiment]:
    """Every finished experiment, oldest first."""
    listing = git("for-each-ref", "--sort=creatordate", "--format=%(refname) %(objectname)", "refs/exps")
    found = []
    for line in listing.splitlines():
        reference, commit = line.split()
        parts = reference.split("/")  # refs/exps/<baseline[:2]>/<baseline[2:]>/<name>
        if len(parts) == 5:
            found.append(Experiment(parts[-1], commit, parts[2] + parts[3]))
    return found


def git_show(commit: str, path: str) -> str:
    shown = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True)
    if shown.returncode:
        raise PipelineError(f"experiment commit {commit[:7]} has no {path}: did its `dvc exp run` finish?")
    return shown.stdout


def params_at(commit: str) -> tuple[dict, Params]:
    """An experiment's params.yaml, as YAML read it and validated."""
    text = git_show(commit, "params.yaml")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        handle.write(text)
        handle.flush()
        return read_yaml(text), load_params(Path(handle.name))


def code_changed_since(commit: str) -> list[str]:
    """The tracked files, outputs aside, in which the working tree differs from `commit`."""
    excluded = [f":(exclude){path}" for path in (*OUTPUTS, "params.yaml")]
    return git("diff", "--name-only", commit, "--", ".", *excluded).splitlines()
