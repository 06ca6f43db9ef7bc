"""Stage train@<task>-<variant> (and train@<preset>): train one recurrent variant on one task, save it.

Writes the model (.keras), a summary (.json: device, backend, parameter count, epochs, seconds),
and the per-epoch history of loss and metric, train and validation (.csv for DVC plots, and .png).
"""

import argparse
import csv
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow

from rnncompare import device, keras_logging, tracking
from rnncompare.config import Params, PresetParams, TrainParams, load_params
from rnncompare.errors import run_stage
from rnncompare.models import build_model
from rnncompare.nested import flatten
from rnncompare.outputs import replaced_file, write_json
from rnncompare.plots import save_history_png
from rnncompare.tasks import load_task
from rnncompare.training import fit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOutputs:
    model: Path
    summary: Path
    history: Path
    history_png: Path


def write_history(path: Path, history: dict[str, list[float]]) -> None:
    names = list(history)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *names])
        for epoch, values in enumerate(zip(*history.values(), strict=True), start=1):
            writer.writerow([epoch, *(f"{value:.6g}" for value in values)])


def recipe(params: Params, task: str | None, variant: str | None, preset: str | None) -> PresetParams:
    """The task, model and training of a matrix entry (task and variant) or of a named preset."""
    if preset:
        return params.preset(preset)
    training = getattr(params.train, task)
    model = params.model(variant)
    if training.layers and training.layers != model.layers:  # the task's setting wins (params.yaml)
        log.info(
            "%s-%s: train.%s.layers = %d overrides models.%s.layers = %d; the model is built with %d layers",
            task, variant, task, training.layers, variant, model.layers, training.layers,
        )  # fmt: skip
        model = replace(model, layers=training.layers)
    return PresetParams(task=task, model=model, training=training)


def run_params(params: Params, plan: PresetParams, task, variant, preset) -> dict:
    """The params.yaml values the stage used, flattened to their keys (`train.mnist.batch_size`), and
    what the model was built with (`model.layers`: after any task-level override)."""
    used = {
        "train.seed": params.train.seed,
        "train.split_seed": params.train.split_seed,
        "train.deterministic": params.train.deterministic,
    }
    if preset:
        used.update(flatten(plan, f"presets.{preset}"))
    else:
        used.update(flatten(params.model(variant), f"models.{variant}"))  # as written
        used.update(flatten(plan.training, f"train.{task}"))
    used.update(flatten(plan.model, "model"))  # as built
    return {"task": plan.task, "variant": preset or variant, **used}


def record_in_mlflow(task: str, data_dir: Path, outputs: TrainOutputs):
    """What the active MLflow run records once the model is trained: its data, model and curves."""

    def record(model, data, summary: dict) -> dict:
        source = Path(data_dir) / "train.npz"
        tracking.log_dataset(f"{task}-train", data.train, source, "training")
        tracking.log_dataset(
            f"{task}-validation",
            data.validation,
            source if task == "mnist" else Path(data_dir) / "validation.npz",
            "validation",
        )
        mlflow.set_tags(
            {key: str(value) for key, value in summary.items() if key in ("backend", "device", "xla", "replicas")}
        )
        mlflow.log_metrics(
            {
                "parameters": summary["parameters"],
                "train_seconds": summary["train_seconds"],
                "best_epoch": summary["best_epoch"],
            }
        )
        model_uri = keras_logging.log_model(model, data.tests["test"][0][:2], task)
        mlflow.log_artifact(str(outputs.history_png), "plots")
        run = mlflow.active_run().info
        return {
            "mlflow_tracking_uri": tracking.store_name(mlflow.get_tracking_uri()),
            "mlflow_experiment_id": run.experiment_id,
            "mlflow_run_id": run.run_id,
            "mlflow_model_uri": model_uri,
        }

    return record


def train(
    name: str,
    plan: PresetParams,
    settings: TrainParams,
    data_dir: Path,
    outputs: TrainOutputs,
    callbacks: list | None = None,
    record=None,
) -> dict:
    """Train the model of `plan` on its task and write its outputs; return the training summary.

    `record(model, data, summary)`, when given, runs once the model is saved and returns entries
    to add to the summary (the MLflow run and model)."""
    task, training = plan.task, plan.training
    scope, replicas = device.distribution(settings.distribute)
    execution = device.execution(plan.model, replicas)
    device.configure(settings.seed, settings.deterministic, execution)
    where = device.describe()
    log.info("training %s on %s with the %s backend on %s", name, task, where["backend"], where["device"])
    data = load_task(task, data_dir, training, settings.split_seed)
    if replicas > 1:
        log.info("%d replicas (tf.distribute.MirroredStrategy), each a %d-th of every batch", replicas, replicas)
    started = time.perf_counter()
    with scope:
        model = build_model(task, plan.model, training, name=name, cudnn=execution.cudnn, masked=data.padded)
        history = fit(model, data, task, training, settings.seed, execution.jit_compile, callbacks)
    seconds = time.perf_counter() - started
    best_epoch = min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__) + 1
    summary = {
        **where,
        "replicas": replicas,
        "name": name,
        "task": task,
        "parameters": model.count_params(),
        "xla": bool(model.jit_compile),
        "epochs_run": len(history["loss"]),
        "best_epoch": best_epoch,
        "train_seconds": round(seconds, 2),
        "train_examples": len(data.train[1]),
        "seconds_per_epoch": round(seconds / len(history["loss"]), 3),
    }
    with replaced_file(outputs.model) as temporary:
        model.save(temporary)
    with replaced_file(outputs.history) as temporary:
        write_history(temporary, history)
    with replaced_file(outputs.history_png) as temporary:
        save_history_png(temporary, history, title=name)
    if record:
        summary.update(record(model, data, summary))
    write_json(outputs.summary, summary)
    log.info(
        "saved %s (%d parameters, %d epochs, %.0f s)",
        outputs.model,
        summary["parameters"],
        summary["epochs_run"],
        seconds,
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["sum", "mnist"])
    parser.add_argument("--variant", help="a section under `models` in params.yaml")
    parser.add_argument("--preset", help="instead of task and variant: a section under `presets`")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data", type=Path, required=True, help="the task's data directory")
    parser.add_argument("--model", type=Path, required=True, help="the .keras file to write")
    parser.add_argument("--summary", type=Path, required=True, help="the training summary .json to write")
    parser.add_argument("--history", type=Path, required=True, help="the per-epoch history .csv to write")
    parser.add_argument("--history-png", type=Path, required=True, help="the history as a picture")
    arguments = parser.parse_args()
    if not arguments.preset and not (arguments.task and arguments.variant):
        parser.error("give --task and --variant, or --preset")
    params = load_params(arguments.params)
    tracking.connect(params.mlflow)  # an unreachable store fails the stage now, not after training
    plan = recipe(params, arguments.task, arguments.variant, arguments.preset)
    name = arguments.preset or f"{arguments.task}-{arguments.variant}"
    stages = [f"train@{name}", f"evaluate@{name}"]
    if arguments.preset:
        stages = [f"presets/dvc.yaml:{stage}" for stage in stages]
    outputs = TrainOutputs(arguments.model, arguments.summary, arguments.history, arguments.history_png)
    used = run_params(params, plan, arguments.task, arguments.variant, arguments.preset)
    with tracking.training_run(params.mlflow, plan.task, name, stages, used, tags={"variant": used["variant"]}):
        record = record_in_mlflow(plan.task, arguments.data, outputs)
        train(name, plan, params.train, arguments.data, outputs, [keras_logging.EpochMetrics()], record)


if __name__ == "__main__":
    run_stage(main)
