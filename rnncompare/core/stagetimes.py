"""Where a pipeline stage's time goes, for `make bench`: each stage that DVC runs appends one line
to logs/stage-times.jsonl, its wall time from process start split into start-up (imports, before
`main()`), the first epoch's extra time (tracing, compilation), the epochs, and the rest.

Nothing here may fail a stage: a log that cannot be written is skipped."""

import json
import os
import statistics
import time
from pathlib import Path

import psutil

from rnncompare.core import repository

LOG = Path("logs", "stage-times.jsonl")
KEEP_LINES = 2000  # about 80 pipeline executions

_main_started: float | None = None
_epochs: list[tuple[float, float]] = []  # (wall seconds, CPU seconds) of each epoch


def main_started() -> None:
    global _main_started
    _main_started = time.time()


def cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def epoch_finished(wall_seconds: float, cpu: float) -> None:
    _epochs.append((wall_seconds, cpu))


def split(total: float, startup: float, epochs: list[tuple[float, float]]) -> dict:
    """`total` seconds as start-up, first-epoch overhead, epochs and the rest; and how many cores the
    epochs kept busy. The first epoch's overhead is its excess over the median of the others."""
    walls = [wall for wall, _ in epochs]
    typical = statistics.median(walls[1:]) if len(walls) > 1 else (walls[0] if walls else 0.0)
    first_overhead = max(walls[0] - typical, 0.0) if walls else 0.0
    epoch_seconds = sum(walls) - first_overhead
    busy = sum(cpu for _, cpu in epochs) / sum(walls) if walls and sum(walls) else None
    return {
        "seconds": round(total, 2),
        "startup_seconds": round(startup, 2),
        "first_epoch_overhead_seconds": round(first_overhead, 2),
        "epochs": len(walls),
        "epoch_seconds": round(epoch_seconds, 2),
        "fixed_seconds": round(total - epoch_seconds, 2),
        "cores_busy_in_epochs": None if busy is None else round(busy, 2),
    }


def record(failed: bool) -> None:
    """Append this stage's line, when DVC runs it (DVC_STAGE names it)."""
    stage = os.environ.get("DVC_STAGE")
    if not stage:
        return
    try:
        process = psutil.Process()
        created = process.create_time()
        now = time.time()
        line = {
            "execution": repository.execution_id(),
            "stage": stage,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)),
            "failed": failed,
            **split(now - created, (_main_started or now) - created, _epochs),
            "cpu_seconds": round(cpu_seconds(), 2),
        }
        root = repository.repository_root(Path(os.environ.get("DVC_ROOT", ".")))
        append(root / LOG, json.dumps(line))
    except (OSError, psutil.Error):
        pass


def append(path: Path, line: str) -> None:
    path.parent.mkdir(exist_ok=True)
    with open(path, "a") as handle:  # one write of one line: concurrent stages do not interleave
        handle.write(line + "\n")
    lines = path.read_text().splitlines()
    if len(lines) > KEEP_LINES:
        path.write_text("\n".join(lines[-KEEP_LINES:]) + "\n")


def last_execution(root: Path = Path(".")) -> list[dict]:
    """The lines of the most recent execution in the log (the stages it ran, not those restored)."""
    path = root / LOG
    if not path.exists():
        return []
    lines = [json.loads(text) for text in path.read_text().splitlines() if text.strip()]
    if not lines:
        return []
    latest = lines[-1]["execution"]
    return [line for line in lines if line["execution"] == latest]
