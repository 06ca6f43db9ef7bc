"""Stage evaluate@<task>-<variant>: test-set metrics of one trained model, and a plot of them.

Writes the metrics JSON (a DVC metrics file) and a plot as data (.csv) and picture (.png): for
MNIST the confusion matrix, for sum the predicted against the true sum at every test length.
For sum, MLflow also gets the length sweep as curves: `length_sweep.<metric>` with the length as step.
"""

import argparse
import csv
import json
import logging
from pathlib import Path

import keras
import mlflow

from rnncompare import lineage, tracking
from rnncompare.config import load_params
from rnncompare.errors import PipelineError, run_stage
from rnncompare.evaluation import evaluate
from rnncompare.nested import numbers
from rnncompare.outputs import replaced_file, write_json
from rnncompare.plots import save_confusion_png, save_sum_predictions_png
from rnncompare.tasks import lengths_of_tests, load_tests

log = logging.getLogger(__name__)


def write_confusion_csv(path: Path, matrix: list[list[int]]) -> None:
    """One row per test image, as DVC's confusion template expects: actual, predicted."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["actual", "predicted"])
        for actual, row in enumerate(matrix):
            for predicted, count in enumerate(row):
                writer.writerows([[actual, predicted]] * count)


def write_predictions_csv(path: Path, tests: dict, predictions: dict) -> None:
    """Per test sequence: its test set, true sum and predicted sum (a DVC scatter plot)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["test_set", "actual", "predicted"])
        for name, (_, targets) in tests.items():
            for actual, predicted in zip(targets.reshape(-1), predictions[name].reshape(-1), strict=True):
                writer.writerow([name, f"{actual:g}", f"{predicted:.4f}"])


def load_model(path: Path) -> keras.Model:
    if not path.is_file():
        raise PipelineError(f"{path} not found; train it first with `dvc repro` (or `make repro`).")
    import rnncompare.models  # noqa: F401  registers the custom layers for safe-mode loading

    return keras.saving.load_model(path, safe_mode=True)


def record_evaluation(
    summary_path: Path, model_path: Path, metrics: dict, tests: dict, data_dir: Path, pictures, lengths=None
) -> str | None:
    """Add evaluate's test metrics, plot and lineage to the model's run (named in its summary). Returns
    the run's id, or None when the run lives in another store: the metrics file is then the record."""
    summary = json.loads(Path(summary_path).read_text())
    if not summary.get("mlflow_run_id"):
        raise PipelineError(tracking.run_elsewhere(summary, summary_path) + ".")
    elsewhere = tracking.run_elsewhere(summary, summary_path)
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
            tracking.log_dataset(f"{Path(data_dir).name}-{name}", split, Path(data_dir) / f"{name}.npz", "testing")
        for picture in pictures:
            mlflow.log_artifact(str(picture), "plots")
        mlflow.set_tags(locked)
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["sum", "mnist"], required=True)
    parser.add_argument("--model", type=Path, required=True, help="the trained model.keras")
    parser.add_argument("--data", type=Path, required=True, help="the task's data directory")
    parser.add_argument("--metrics", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--plot", type=Path, required=True, help="the plot's data .csv to write")
    parser.add_argument("--plot-png", type=Path, required=True, help="the plot as a picture")
    parser.add_argument("--summary", type=Path, required=True, help="the training summary naming the MLflow run")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    arguments = parser.parse_args()
    tracking.connect(load_params(arguments.params).mlflow)

    tests = load_tests(arguments.task, arguments.data)
    model = load_model(arguments.model)
    metrics, predictions = evaluate(model, arguments.task, tests)
    title = arguments.model.stem
    with replaced_file(arguments.plot) as data, replaced_file(arguments.plot_png) as picture:
        if arguments.task == "mnist":
            matrix = metrics["test"].pop("confusion_matrix")
            write_confusion_csv(data, matrix)
            save_confusion_png(picture, matrix, title=title)
        else:
            write_predictions_csv(data, tests, predictions)
            save_sum_predictions_png(picture, tests, predictions, title=title)
    write_json(arguments.metrics, metrics)
    pictures = [arguments.plot_png]
    lengths = lengths_of_tests(arguments.task, arguments.data) if arguments.task == "sum" else None
    run_id = record_evaluation(arguments.summary, arguments.model, metrics, tests, arguments.data, pictures, lengths)
    if run_id:
        log.info("test metrics added to MLflow run %s", run_id)
    for name, values in metrics.items():
        log.info("%s: %s", name, ", ".join(f"{k} {v:.4f}" for k, v in values.items() if isinstance(v, float)))


if __name__ == "__main__":
    run_stage(main)
