"""Loading a model from MLflow for `predict`: by URI, by the model file the pipeline wrote, or as a
task's champion, each failure named with the store and how to find the valid ones."""

import json
import logging
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from rnncompare.core.errors import PipelineError
from rnncompare.tracking.store import store_name

log = logging.getLogger(__name__)


def champion_elsewhere(task: str, description: dict | None) -> str:
    """Why the pipeline's last register stage registered no champion in this store, if its
    description of the champion (models/champion-<task>.json) says so."""
    this_run = (description or {}).get("this_run", {})
    if not description or this_run.get("version") is not None:
        return ""
    return f" The pipeline's best {task} model was {this_run.get('reason', 'not registered')}."


def model_uri_of(argument: str) -> str:
    """--model as an MLflow URI: a Keras file the pipeline wrote (models/<task>-<variant>.keras) stands
    for the MLflow model its training logged, which its summary beside it names."""
    path = Path(argument)
    if path.suffix != ".keras":
        return argument
    if not path.is_file():
        raise PipelineError(
            f"--model {argument}: no such file (`ls models/` lists the pipeline's, after `make repro`)."
        )
    summary = path.with_suffix(".json")
    try:
        uri = json.loads(summary.read_text())["mlflow_model_uri"]
    except (OSError, ValueError, KeyError, TypeError):
        uri = None
    if not isinstance(uri, str):
        raise PipelineError(
            f"--model {argument} is a Keras file, and {summary}, its training's summary with the MLflow model "
            "URI, is missing or unreadable: give the URI instead (runs:/<run id>/model, models:/<name>@champion)."
        )
    log.info("%s: the MLflow model its training logged, %s (from %s)", argument, uri, summary)
    return uri


def load_model(uri: str, hint: str = ""):
    """An MLflow model by URI, or an error naming the URI, the store and how to find valid ones."""
    try:
        return mlflow.pyfunc.load_model(uri)
    except MlflowException as error:
        reason = error.message.splitlines()[0].rstrip(".")
        raise PipelineError(
            f"cannot load MLflow model {uri} from {store_name(mlflow.get_tracking_uri())}: {reason}."
            + (hint or " Run `make repro` to train and register models, or list them in the UI (`make ui`).")
        ) from None


def task_of(model) -> str:
    """The task a pyfunc model was trained on: from its metadata, else from its input's shape."""
    task = (model.metadata.metadata or {}).get("task")
    if task:
        return task
    inputs = model.metadata.get_input_schema()
    shape = tuple(inputs.inputs[0].shape) if inputs else ()
    return "mnist" if shape[-2:] == (28, 28) else "sum"


def require_task(model, uri: str, wanted: str, option: str) -> None:
    task = task_of(model)
    if task != wanted:
        raise PipelineError(
            f"{uri} is a {task} model, but {option} needs a {wanted} model: "
            f"use --champion {wanted}, or --model with a {wanted} run's model."
        )
