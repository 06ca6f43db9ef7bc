"""The MLflow tracking store: which one (a local SQLite file, or a team's server), that it answers,
and where a run a training summary names lives."""

import os
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import requests
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from rnncompare.config.params import MlflowParams
from rnncompare.core.errors import PipelineError
from rnncompare.core.repository import repository_root

LOCAL_STORE = "mlflow.db"
LOCAL_ARTIFACTS = "mlartifacts"
HEALTH_TIMEOUT_SECONDS = 5
SERVER_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                  "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}  # fmt: skip


def tracking_uri(settings: MlflowParams) -> str:
    """MLFLOW_TRACKING_URI, else params.yaml's mlflow.tracking_uri, else the SQLite store at the root."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI") or settings.tracking_uri or f"sqlite:///{repository_root() / LOCAL_STORE}"
    )


def refused_credentials(error: Exception) -> bool:
    """A tracking server that answered 401 or 403: it runs, but not for these credentials."""
    return " 401 " in str(error) or " 403 " in str(error)


def _unreachable(uri: str, reason: str) -> PipelineError:
    return PipelineError(
        f"cannot reach the MLflow tracking store {uri} ({reason}). Start the server, or correct "
        "MLFLOW_TRACKING_URI (or mlflow.tracking_uri in params.yaml); unset both to record into "
        f"sqlite:///{repository_root() / LOCAL_STORE}."
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
                "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to an account of the server's "
                "(docs/team-setup.md, Authentication)."
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
        "docs/team-setup.md), or retrain it into this store (`dvc repro -f train@<task>-<variant>`)"
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
