"""Stage evaluate@<task>-<variant>: test-set metrics of one trained model, and a plot of them.

Writes the metrics JSON (a DVC metrics file) and a plot as data (.csv) and picture (.png): for
MNIST the confusion matrix, for sum the predicted against the true sum at every test length; and
adds them to the model's MLflow run. For sum, MLflow also gets the length sweep as curves:
`length_sweep.<metric>` with the length as step.
"""

import argparse
import logging
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.core.outputs import write_json
from rnncompare.evaluation.metrics import evaluate, load_model
from rnncompare.evaluation.plots import write_plot
from rnncompare.tracking import runs, store
from rnncompare.training.inputs import lengths_of_tests, load_tests

log = logging.getLogger(__name__)


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
    store.connect(load_params(arguments.params).mlflow)

    tests = load_tests(arguments.task, arguments.data)
    metrics, predictions = evaluate(load_model(arguments.model), arguments.task, tests)
    write_plot(arguments.task, metrics, tests, predictions, arguments.plot, arguments.plot_png, arguments.model.stem)
    write_json(arguments.metrics, metrics)
    lengths = lengths_of_tests(arguments.task, arguments.data) if arguments.task == "sum" else None
    pictures = [arguments.plot_png]
    run_id = runs.record_evaluation(
        arguments.summary, arguments.model, metrics, tests, arguments.data, pictures, lengths
    )
    if run_id:
        log.info("test metrics added to MLflow run %s", run_id)
    for name, values in metrics.items():
        log.info("%s: %s", name, ", ".join(f"{k} {v:.4f}" for k, v in values.items() if isinstance(v, float)))


if __name__ == "__main__":
    run_stage(main)
