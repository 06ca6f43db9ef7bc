"""One MLflow run per trained model: opened by the train stage under a parent run standing for the
pipeline execution (the UI shows one `dvc repro` as one group), with the data, model and curves
training records, and the test metrics, plots and lineage that evaluate adds."""

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

from rnncompare.config.params import MlflowParams
from rnncompare.core.errors import PipelineError
from rnncompare.core.nested import numbers
from rnncompare.core.repository import execution_id
from rnncompare.tracking import lineage, model_logging, orphans
from rnncompare.tracking.store import experiment_id, run_elsewhere, store_name

log = logging.getLogger(__name__)
DIFF_ARTIFACT = "changes.diff"  # a dirty tree's `git diff HEAD`, the run's reproduce tag applies it
SUMMARY_TAGS = ("backend", "device", "xla", "replicas")  # of the training summary, as run tags


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
    execution = execution_id()
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
        # RUNNING is marked FAILED later (rnncompare/tracking/orphans.py).
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


def record_training(task: str, data_dir: Path, history_png: Path):
    """What the active run records once the model is trained: its data, model and curves. Returns
    `record(model, data, summary)`, which returns the entries the training summary gains."""

    def record(model, data, summary: dict) -> dict:
        source = Path(data_dir) / "train.npz"
        log_dataset(f"{task}-train", data.train, source, "training")
        validation_source = source if task == "mnist" else Path(data_dir) / "validation.npz"
        log_dataset(f"{task}-validation", data.validation, validation_source, "validation")
        mlflow.set_tags({key: str(value) for key, value in summary.items() if key in SUMMARY_TAGS})
        mlflow.log_metrics({key: summary[key] for key in ("parameters", "train_seconds", "best_epoch")})
        model_uri = model_logging.log_model(model, data.tests["test"][0][:2], task)
        mlflow.log_artifact(str(history_png), "plots")
        run = mlflow.active_run().info
        return {
            "mlflow_tracking_uri": store_name(mlflow.get_tracking_uri()),
            "mlflow_experiment_id": run.experiment_id,
            "mlflow_run_id": run.run_id,
            "mlflow_model_uri": model_uri,
        }

    return record


def record_evaluation(
    summary_path: Path, model_path: Path, metrics: dict, tests: dict, data_dir: Path, pictures, lengths=None
) -> str | None:
    """Add evaluate's test metrics, plot and lineage to the model's run (named in its summary). Returns
    the run's id, or None when the run lives in another store: the metrics file is then the record."""
    summary = json.loads(Path(summary_path).read_text())
    if not summary.get("mlflow_run_id"):
        raise PipelineError(run_elsewhere(summary, summary_path) + ".")
    elsewhere = run_elsewhere(summary, summary_path)
    if elsewhere:
        log.warning("test metrics not recorded in MLflow: %s.", elsewhere)
        return None
    run_id = summary["mlflow_run_id"]
    locked = lineage.locked_stage_of(model_path)
    if locked:
        expected = locked.get(f"dvc.lock.{model_path}")
        locked["dvc.lock.describes_this_model"] = str(expected == lineage.file_md5(model_path)).lower()
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics(numbers(metrics))
        for name, length in (lengths or {}).items():  # one point per length: a curve in the run's charts
            for metric in ("rounded_accuracy", "mae"):
                mlflow.log_metric(f"length_sweep.{metric}", metrics[name][metric], step=length)
        for name, split in tests.items():
            log_dataset(f"{Path(data_dir).name}-{name}", split, Path(data_dir) / f"{name}.npz", "testing")
        for picture in pictures:
            mlflow.log_artifact(str(picture), "plots")
        mlflow.set_tags(locked)
    return run_id
