"""Stage train@<task>-<variant> (and train@<preset>): train one recurrent variant on one task, save it.

Writes the model (.keras), a summary (.json: device, backend, parameter count, epochs, seconds),
and the per-epoch history of loss and metric, train and validation (.csv for DVC plots, and .png).
"""

import argparse
import csv
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from rnncompare import device
from rnncompare.config import Params, PresetParams, TrainParams, load_params
from rnncompare.errors import run_stage
from rnncompare.models import build_model
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
    return PresetParams(task=task, model=params.model(variant), training=getattr(params.train, task))


def train(name: str, plan: PresetParams, settings: TrainParams, data_dir: Path, outputs: TrainOutputs) -> dict:
    """Train the model of `plan` on its task and write its outputs; return the training summary."""
    task, training = plan.task, plan.training
    execution = device.execution(plan.model)
    device.configure(settings.seed, settings.deterministic, execution)
    where = device.describe()
    log.info("training %s on %s with the %s backend on %s", name, task, where["backend"], where["device"])
    data = load_task(task, data_dir, training, settings.seed)
    model = build_model(task, plan.model, training, name=name, cudnn=execution.cudnn)
    started = time.perf_counter()
    history = fit(model, data, task, training, settings.seed, execution.jit_compile)
    seconds = time.perf_counter() - started
    best_epoch = min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__) + 1
    summary = {
        **where,
        "name": name,
        "task": task,
        "parameters": model.count_params(),
        "xla": bool(model.jit_compile),
        "epochs_run": len(history["loss"]),
        "best_epoch": best_epoch,
        "train_seconds": round(seconds, 2),
        "train_examples": len(data.train[1]),
    }
    with replaced_file(outputs.model) as temporary:
        model.save(temporary)
    write_json(outputs.summary, summary)
    with replaced_file(outputs.history) as temporary:
        write_history(temporary, history)
    with replaced_file(outputs.history_png) as temporary:
        save_history_png(temporary, history, title=name)
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
    plan = recipe(params, arguments.task, arguments.variant, arguments.preset)
    name = arguments.preset or f"{arguments.task}-{arguments.variant}"
    outputs = TrainOutputs(arguments.model, arguments.summary, arguments.history, arguments.history_png)
    train(name, plan, params.train, arguments.data, outputs)


if __name__ == "__main__":
    run_stage(main)
