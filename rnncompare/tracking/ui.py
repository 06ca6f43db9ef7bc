"""The addresses of the pipeline's runs in MLflow's UI, which `make ui` prints before the UI starts.

MLflow 3's UI opens on its GenAI home page. Its classic pages have addresses of their own (routes of
the JS app in mlflow/server/js): #/experiments/<id>/runs, one experiment's runs;
#/compare-experiments/s?experiments=[ids], the runs of several in one table; #/experiments, the list.
workflowType=machine_learning shows them in the machine-learning layout (runs, not traces) whatever
the browser chose last.
"""

import json
import logging
import os
from typing import get_args
from urllib.parse import quote

from mlflow.tracking import MlflowClient

from rnncompare.config.params import Task

CLASSIC = "workflowType=machine_learning"


def experiments_page(base: str) -> str:
    return f"{base.rstrip('/')}/#/experiments?{CLASSIC}"


def runs_page(base: str, experiment_ids: list[str]) -> str:
    """One experiment's runs, or the runs of several side by side (the link MLflow's own pages make)."""
    base = base.rstrip("/")
    if len(experiment_ids) == 1:
        return f"{base}/#/experiments/{experiment_ids[0]}/runs?{CLASSIC}"
    ids = quote(json.dumps(sorted(experiment_ids), separators=(",", ":")), safe="")
    return f"{base}/#/compare-experiments/s?experiments={ids}&{CLASSIC}"


def pipeline_experiments(store: str, prefix: str) -> dict[str, str]:
    """Name to id of the experiments the stages record into (<prefix>-<task>) that the store holds."""
    # A server that does not answer costs seconds, not MLflow's minutes of retries.
    for variable, value in {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}.items():
        os.environ.setdefault(variable, value)
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # not the notes of a first use of a SQLite store
    client = MlflowClient(tracking_uri=store)
    found = {}
    for task in get_args(Task):
        experiment = client.get_experiment_by_name(f"{prefix}-{task}")
        if experiment is not None:
            found[experiment.name] = experiment.experiment_id
    return found


def addresses(store: str, base: str, prefix: str) -> list[str]:
    """What `make ui` prints: the pipeline's runs when the store has them, and the experiments page."""
    try:
        found = pipeline_experiments(store, prefix)
    except Exception as error:  # the UI itself may still answer; say why there is no runs page
        lines = [f"(could not look up the pipeline's experiments in the store: {type(error).__name__})"]
    else:
        if found:
            lines = [f"The pipeline's runs ({', '.join(found)}): {runs_page(base, list(found.values()))}"]
        else:
            names = " and ".join(f"{prefix}-{task}" for task in get_args(Task))
            lines = [f"No runs yet: `make repro` records them into {names}."]
    return [*lines, f"All experiments: {experiments_page(base)}"]
