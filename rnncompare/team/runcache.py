"""`make push`, second half: send the remote every file that this clone's DVC run-cache entries name.

`dvc push --run-cache` sends the entries themselves and the outputs that the workspace's dvc.lock
names, and only those that DVC caches. A teammate's `dvc repro --pull` restores a stage from an
entry only when every output it names is on the remote. So, without this, every evaluate stage
(whose metrics are git-tracked, `cache: false`) and every stage of an earlier run reran on the
teammate's machine. This pushes those files through DVC's own transfer, as DVC 2's push did.
"""

import logging
from pathlib import Path

from dvc.repo import Repo

log = logging.getLogger(__name__)


def entries(repo: Repo) -> list[tuple[str, str]]:
    """Every run-cache entry of this clone, as (stage key, run) pairs."""
    runs = Path(repo.stage_cache.cache_dir)
    return [(run.parent.name, run.name) for run in sorted(runs.glob("*/*/*")) if run.is_file()]


def push(remote: str | None = None) -> tuple[int, int]:
    """Push every file the run-cache entries name; returns (files sent, files that failed)."""
    with Repo() as repo:
        found = entries(repo)
        used = repo.stage_cache.get_used_objs(found, remote=remote)
        sent = failed = 0
        for odb, objects in used.items():
            result = repo.cloud.push(objects, remote=remote, odb=odb)
            sent, failed = sent + len(result.transferred), failed + len(result.failed)
    log.info("%d run-cache entries: %d files sent to the remote, the others were there", len(found), sent)
    return sent, failed
