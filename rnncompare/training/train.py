"""Train one model: one variant on one task (or a tutorial's recipe), and write its outputs, all
at once: the model (.keras), a summary (.json: device, backend, parameter count, epochs, seconds)
and the per-epoch history of loss and metric, train and validation (.csv for DVC plots, and .png).
"""

import csv
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from rnncompare.config.params import ModelParams, Params, TrainingParams, TrainParams
from rnncompare.core.nested import flatten
from rnncompare.core.outputs import replaced_file, write_json
from rnncompare.models.build import build_model
from rnncompare.training import device
from rnncompare.training.fit import fit
from rnncompare.training.inputs import load_task
from rnncompare.training.plots import save_history_png

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


@dataclass(frozen=True)
class Recipe:
    """What one train stage trains: a model of a task, and how."""

    task: str
    model: ModelParams
    training: TrainingParams


def recipe(params: Params, task: str | None, variant: str | None, tutorial: str | None) -> Recipe:
    """The task, model and training of a matrix entry (task and variant) or of a tutorial's recipe."""
    if tutorial:
        found = params.tutorial(tutorial)
        return Recipe(found.task, found.model, found.training)
    training = getattr(params.train, task)
    model = params.model(variant)
    if training.layers and training.layers != model.layers:  # the task's setting wins (params.yaml)
        log.info(
            "%s-%s: train.%s.layers = %d overrides models.%s.layers = %d; the model is built with %d layers",
            task, variant, task, training.layers, variant, model.layers, training.layers,
        )  # fmt: skip
        model = replace(model, layers=training.layers)
    return Recipe(task, model, training)


def run_params(params: Params, plan: Recipe, task, variant, tutorial) -> dict:
    """The params.yaml values the stage used, flattened to their keys (`train.mnist.batch_size`), and
    what the model was built with (`model.layers`: after any task-level override)."""
    used = {
        "train.seed": params.train.seed,
        "train.split_seed": params.train.split_seed,
        "train.deterministic": params.train.deterministic,
    }
    if tutorial:
        used.update(flatten(params.tutorial(tutorial), f"tutorials.{tutorial}"))
    else:
        used.update(flatten(params.model(variant), f"models.{variant}"))  # as written
        used.update(flatten(plan.training, f"train.{task}"))
    used.update(flatten(plan.model, "model"))  # as built
    return {"task": plan.task, "variant": tutorial or variant, **used}


def train(
    name: str,
    plan: Recipe,
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
        model = build_model(task, plan.model, training.dropout, name=name, cudnn=execution.cudnn, padding=data.padding)
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
