"""Stage train@<task>-<variant>: train one recurrent variant on one task and save it.

Writes, in --out: model.keras, history.csv (per-epoch loss and metric, train and validation; a DVC
plot), history.png (the same as a picture) and training.json (device, backend, parameter count, epochs, seconds).
"""

import argparse
import csv
import logging
import os
import time
from pathlib import Path

from rnncompare import device
from rnncompare.config import load_params
from rnncompare.errors import run_stage
from rnncompare.models import build_model
from rnncompare.outputs import replaced_directory, write_json
from rnncompare.plots import save_history_png
from rnncompare.tasks import load_task
from rnncompare.training import fit

log = logging.getLogger(__name__)


def write_history(path: Path, history: dict[str, list[float]]) -> None:
    names = list(history)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *names])
        for epoch, values in enumerate(zip(*history.values(), strict=True), start=1):
            writer.writerow([epoch, *(f"{value:.6g}" for value in values)])


def train(task: str, variant: str, params_path: Path, data_dir: Path, output: Path) -> dict:
    """Train `variant` on `task` and write its outputs; return the training summary."""
    params = load_params(params_path)
    model_params, training = params.model(variant), getattr(params.train, task)
    device.configure(params.train.seed, params.train.deterministic)
    where = device.describe()
    log.info("training %s on %s with the %s backend on %s", variant, task, where["backend"], where["device"])
    data = load_task(task, data_dir, training, params.train.seed)
    model = build_model(task, model_params, name=f"{task}-{variant}")
    started = time.perf_counter()
    history = fit(model, data, task, training)
    seconds = time.perf_counter() - started
    best_epoch = min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__) + 1
    summary = {**where, "task": task, "variant": variant, "parameters": model.count_params(),
               "epochs_run": len(history["loss"]), "best_epoch": best_epoch,
               "train_seconds": round(seconds, 2), "train_examples": len(data.train[1])}
    with replaced_directory(output) as staging:
        model.save(staging / "model.keras")
        write_history(staging / "history.csv", history)
        save_history_png(staging / "history.png", history, title=f"{task}-{variant}")
        write_json(staging / "training.json", summary)
    log.info("saved %s (%d parameters, %d epochs, %.0f s)", output / "model.keras", summary["parameters"],
             summary["epochs_run"], seconds)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["sum", "mnist"], required=True)
    parser.add_argument("--variant", required=True, help="a section under `models` in params.yaml")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data", type=Path, required=True, help="the task's data directory")
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)write")
    arguments = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the log
    train(arguments.task, arguments.variant, arguments.params, arguments.data, arguments.out)


if __name__ == "__main__":
    run_stage(main)
