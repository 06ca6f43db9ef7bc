"""Runs whose stage died. A training stage tags its run with its host, process id and start time.
A run still RUNNING whose process is gone (killed with SIGKILL, the machine restarted, the tracking
server down when the stage tried to end its run) is marked FAILED by the next training stage on that
host, and by `make server`. Only this host's processes can be checked, so only its runs are."""

import logging
import socket

import mlflow
import psutil
from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)
HOST_TAG = "process.host"
PID_TAG = "process.pid"
STARTED_TAG = "process.started"


def process_tags() -> dict[str, str]:
    """The tags that identify this process: a pid alone is reused once the process is gone."""
    me = psutil.Process()
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(me.pid), STARTED_TAG: f"{me.create_time():.2f}"}


def alive(pid: str, started: str) -> bool:
    try:
        return f"{psutil.Process(int(pid)).create_time():.2f}" == started
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def fail_runs_of_dead_stages(tracking_uri: str | None = None) -> int:
    """Mark FAILED every RUNNING run of this host whose stage process is gone; returns how many."""
    client = MlflowClient(tracking_uri or mlflow.get_tracking_uri())
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    if not experiments:
        return 0
    found = client.search_runs(
        experiments, f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{socket.gethostname()}'"
    )
    failed = 0
    for run in found:
        tags = run.data.tags
        if not alive(tags.get(PID_TAG, ""), tags.get(STARTED_TAG, "")):
            client.set_tag(run.info.run_id, "process.ended", "its stage died; marked FAILED by a later stage")
            client.set_terminated(run.info.run_id, "FAILED")
            log.warning(
                "MLflow run %s (%s): its stage process is gone; marked FAILED", run.info.run_id, run.info.run_name
            )
            failed += 1
    return failed
