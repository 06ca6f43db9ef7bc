"""DVC's experiments as this project runs and reads them: `dvc` with its progress on the terminal,
the finished experiments of a commit (DVC's git refs, `refs/exps/<baseline>/<name>`), and what an
experiment's commit holds (git for the params and metrics, the DVC cache for the other outputs)."""

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rnncompare.config.params import Params, load_params, read_yaml
from rnncompare.core.errors import PipelineError
from rnncompare.core.repository import repository_root

# What the pipeline runs: its code and its stages (its params are compared on their own).
PIPELINE = ("rnncompare", "stages", "dvc.yaml", "tutorials/dvc.yaml")


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


def git(*arguments: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *arguments], capture_output=True, text=True, check=True, cwd=cwd).stdout


def head(root: Path | None = None) -> str:
    return git("rev-parse", "HEAD", cwd=root).strip()


def untracked_files() -> list[str]:
    """Files git neither tracks nor ignores (a new cell module not yet added): an experiment in a
    temporary copy gets them only through `--copy-paths`."""
    return git("ls-files", "--others", "--exclude-standard").splitlines()


def experiments(root: Path | None = None) -> list[Experiment]:
    """Every finished experiment, oldest first."""
    listing = git("for-each-ref", "--sort=creatordate", "--format=%(refname) %(objectname)", "refs/exps", cwd=root)
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


def code_changed_since(commit: str, root: Path | None = None) -> list[str]:
    """The files of the pipeline's code and stages in which the working tree differs from `commit`.
    Untracked files count by their content: an experiment's commit holds the ones its run was given
    (`--copy-paths`), which `git diff` alone calls deleted."""
    changed = set(git("diff", "--name-only", commit, "--", *PIPELINE, cwd=root).splitlines())
    for path in git("ls-files", "--others", "--exclude-standard", "--", *PIPELINE, cwd=root).splitlines():
        held = git("ls-tree", commit, "--", path, cwd=root).split()
        if held and held[2] == git("hash-object", "--", path, cwd=root).strip():
            changed.discard(path)
        else:
            changed.add(path)
    return sorted(changed)


def newest_output(path: str) -> str | None:
    """A DVC-tracked output as the workspace has it, else as the newest experiment of this commit
    made it (a profile's run), else None (also outside a repository)."""
    root = repository_root()
    if (root / path).is_file():
        return (root / path).read_text()
    try:
        here = [found for found in experiments(root) if found.baseline == head(root)]
    except (OSError, subprocess.CalledProcessError):
        return None
    from dvc.api import DVCFileSystem

    for found in reversed(here):
        try:
            return DVCFileSystem(str(root), rev=found.commit).read_text(path)
        except (FileNotFoundError, OSError):
            continue
    return None
