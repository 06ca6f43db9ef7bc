"""What a failed stage says under a plain `dvc repro` or `dvc exp run` in the workspace: DVC removed
its outputs before running it, and which command brings the last good ones back (`make repro` runs
it itself). A run in DVC's temporary copies (--temp, the queue) removes nothing of the workspace."""

import os
import subprocess
from pathlib import Path

import yaml

from rnncompare.core.repository import repository_root


def _in_git(root: Path, path: str) -> bool:
    """Whether HEAD holds `path` (a git-tracked metrics file), so git can put it back."""
    found = subprocess.run(["git", "cat-file", "-e", f"HEAD:{path}"], cwd=root, capture_output=True)
    return found.returncode == 0


def _cached(root: Path, entry: dict) -> bool:
    digest = entry.get("md5") or entry.get("hash") or ""
    return len(digest) > 2 and (root / ".dvc" / "cache" / "files" / "md5" / digest[:2] / digest[2:]).exists()


def hint() -> str | None:
    """The outputs of this stage that DVC removed (those dvc.lock names, gone now) and the command
    that brings them back, or None outside a DVC stage, in a temporary copy, or with nothing gone."""
    stage = os.environ.get("DVC_STAGE")
    root = Path(os.environ.get("DVC_ROOT", "."))
    if not stage or repository_root(root.resolve()) != root.resolve():  # a copy under .dvc/tmp/exps
        return None
    pipeline, _, name = stage.rpartition(":")
    lock = root / (Path(pipeline).with_suffix(".lock") if pipeline else "dvc.lock")
    try:
        entry = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}).get(name)
    except (OSError, yaml.YAMLError):
        return None
    # Outputs in neither DVC's cache nor git were never there to lose (a fresh clone's dvc.lock names
    # outputs it has not built yet): a rerun makes them anew, and nothing needs saying.
    gone = [out for out in (entry or {}).get("outs", []) if not (root / out["path"]).exists()]
    cached = [out["path"] for out in gone if _cached(root, out)]
    tracked = [out["path"] for out in gone if out["path"] not in cached and _in_git(root, out["path"])]
    if not cached + tracked:
        return None
    commands = ([f"dvc checkout {stage}"] if cached else []) + (
        [f"git checkout -- {' '.join(tracked)}"] if tracked else []
    )
    return (
        f"DVC removed {', '.join(cached + tracked)} before this stage ran; the last good ones, as dvc.lock "
        f"describes them, come back with: {' && '.join(commands)} (make repro does this itself)."
    )
