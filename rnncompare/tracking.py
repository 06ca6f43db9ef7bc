"""MLflow: the tracking store, one run per trained model, and the data each run records (the
Keras model itself: rnncompare/keras_logging.py, so that stages without a model load no Keras).

Runs live in one experiment per task (`rnncompare-mnist`), each under a parent run standing for
the `dvc repro` that made it, so the UI shows one pipeline execution as one group.
"""

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import numpy as np
import requests
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from rnncompare import lineage, orphans
from rnncompare.config import MlflowParams
from rnncompare.errors import PipelineError

LOCAL_STORE = "mlflow.db"
LOCAL_ARTIFACTS = "mlartifacts"
HEALTH_TIMEOUT_SECONDS = 5
SERVER_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                  "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}  # fmt: skip
DIFF_ARTIFACT = "changes.diff"  # a dirty tree's `git diff HEAD`, the run's reproduce tag applies it


def tracking_uri(settings: MlflowParams) -> str:
    """MLFLOW_TRACKING_URI, else params.yaml's mlflow.tracking_uri, else the SQLite store at the root."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI")
        or settings.tracking_uri
        or f"sqlite:///{lineage.repository_root() / LOCAL_STORE}"
    )


def refused_credentials(error: Exception) -> bool:
    """A tracking server that answered 401 or 403: it runs, but not for these credentials."""
    return " 401 " in str(error) or " 403 " in str(error)


def _unreachable(uri: str, reason: str) -> PipelineError:
    return PipelineError(
        f"cannot reach the MLflow tracking store {uri} ({reason}). Start the server, or correct "
        "MLFLOW_TRACKING_URI (or mlflow.tracking_uri in params.yaml); unset both to record into "
        f"sqlite:///{lineage.repository_root() / LOCAL_STORE}."
    )


def connect(settings: MlflowParams) -> str:
    """Point MLflow at the store and check that it answers, before any work is done."""
    uri = tracking_uri(settings)
    scheme = urlparse(uri).scheme
    if scheme in ("http", "https"):
        # A server that stops answering fails the stage within seconds, not after MLflow's default
        # retries (7, with backoff: minutes); a user's own settings win.
        for variable, value in SERVER_RETRIES.items():
            os.environ.setdefault(variable, value)
        try:
            response = requests.get(f"{uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_SECONDS)
            response.raise_for_status()
        except requests.RequestException as error:
            raise _unreachable(uri, type(error).__name__ + ": " + str(error).split("(Caused by")[0].strip()) from None
    elif scheme == "sqlite":
        folder = Path(uri.removeprefix("sqlite:///")).parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise _unreachable(uri, f"{folder} is not a writable directory")
    mlflow.set_tracking_uri(uri)
    try:
        MlflowClient().search_experiments(max_results=1)
    except Exception as error:  # any store's failure to answer, named with its URI
        if refused_credentials(error):
            raise PipelineError(
                f"the MLflow tracking server {store_name(uri)} refused this client ({str(error)[:200]}): set "
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to an account of the server's (README, "
                "Authentication)."
            ) from None
        raise _unreachable(uri, f"{type(error).__name__}: {error}") from None
    return uri


def store_name(uri: str) -> str:
    """A store's URI as safe to write into outputs and logs: any user name and password removed."""
    parsed = urlparse(uri)
    if parsed.password is None and parsed.username is None:
        return uri
    return parsed._replace(netloc=parsed.hostname + (f":{parsed.port}" if parsed.port else "")).geturl()


def run_elsewhere(summary: dict, summary_path: Path) -> str | None:
    """None when the run a training summary names is in the current store; otherwise why not, and what to
    do. Outputs restored from a DVC remote or the run-cache name runs in the store that trained them."""
    run_id = summary.get("mlflow_run_id")
    if not run_id:
        return f"{summary_path} names no MLflow run; retrain the model with its stage (`dvc repro -f train@...`)"
    try:
        MlflowClient().get_run(run_id)
        return None
    except MlflowException:
        pass
    recorded = summary.get("mlflow_tracking_uri", "a store this summary does not name")
    return (
        f"MLflow run {run_id} (named in {summary_path}) lives in another store: it was recorded in {recorded}, "
        f"not in {store_name(mlflow.get_tracking_uri())}. The model was trained elsewhere (restored from the DVC "
        "remote or the run-cache). Point MLFLOW_TRACKING_URI at the store that trained it (a team's server: "
        "README, Team setup), or retrain it into this store (`dvc repro -f train@<task>-<variant>`)"
    )


def experiment_id(name: str) -> str:
    """The experiment's id, created on first use; a local store keeps its artifacts beside mlflow.db."""
    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    if found:
        return found.experiment_id
    location = None
    uri = mlflow.get_tracking_uri()
    if uri.startswith("sqlite:///"):
        location = (Path(uri.removeprefix("sqlite:///")).parent / LOCAL_ARTIFACTS / name).as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:  # created meanwhile by a stage running beside this one
        return client.get_experiment_by_name(name).experiment_id


def _parent_run(experiment: str, execution: str) -> str:
    """The run standing for one pipeline execution in this experiment, created by its first stage."""
    client = MlflowClient()
    query = f"tags.`pipeline.execution` = '{execution}' and tags.`pipeline.parent` = 'true'"
    found = client.search_runs([experiment], filter_string=query, max_results=1)
    if found:
        return found[0].info.run_id
    tags = {"pipeline.execution": execution, "pipeline.parent": "true", **lineage.git_state(), **lineage.experiment()}
    name = f"dvc exp {execution.removeprefix('exp-')}" if lineage.experiment() else f"dvc repro {execution}"
    run = client.create_run(experiment, run_name=name, tags=tags)
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


@contextlib.contextmanager
def training_run(
    settings: MlflowParams, task: str, name: str, stages: list[str], params: dict, tags: dict
) -> Iterator[mlflow.ActiveRun]:
    """One run for one trained model; FAILED if the block raises (or the stage is killed)."""
    orphans.fail_runs_of_dead_stages()
    experiment = experiment_id(f"{settings.experiment_prefix}-{task}")
    execution = lineage.execution_id()
    parent = _parent_run(experiment, execution)
    git = lineage.git_state()
    reproduce = lineage.reproduce_command(git, stages, DIFF_ARTIFACT)
    all_tags = {
        **tags,
        **git,
        **lineage.experiment(),
        **lineage.versions(),
        **orphans.process_tags(),
        "task": task,
        "dvc.stage": stages[0],
        "pipeline.execution": execution,
        "mlflow.parentRunId": parent,
        "reproduce": reproduce,
    }
    description = f"`{name}` on `{task}`. Reproduce:\n\n```\n{reproduce}\n```"
    run = mlflow.start_run(experiment_id=experiment, run_name=name, tags=all_tags, description=description)
    try:
        mlflow.log_params(params)
        if git.get("git.dirty") == "true" and not lineage.experiment():
            mlflow.log_text(lineage.working_tree_diff(), DIFF_ARTIFACT)
        yield run
    except BaseException:
        # The store may be what failed: the stage's own error is the one to show. A run left
        # RUNNING is marked FAILED later (rnncompare/orphans.py).
        with contextlib.suppress(Exception):
            mlflow.end_run("FAILED")
        raise
    mlflow.end_run("FINISHED")
    MlflowClient().set_terminated(parent, "FINISHED")  # an execution ends with its last run


def log_dataset(name: str, split: tuple[np.ndarray, np.ndarray], source: Path, context: str) -> None:
    """A dataset input: MLflow's digest of the arrays, and the SHA-256 of the file they came from."""
    with warnings.catch_warnings():
        # MLflow registers its local-file source twice (schemes "" and "file") and warns about it each time.
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted in multiple ways")
        dataset = mlflow.data.from_numpy(split[0], targets=split[1], source=str(Path(source).resolve()), name=name)
    mlflow.log_input(dataset, context=context, tags={"sha256": lineage.file_sha256(source)})
