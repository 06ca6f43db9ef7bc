"""Stage train@<task>-<variant> (and tutorials/dvc.yaml:train@<recipe>): train one recurrent variant on
one task and save it, recorded as one MLflow run (rnncompare/training/train.py)."""

import argparse
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.tracking import model_logging, runs, store
from rnncompare.training.train import TrainOutputs, recipe, run_params, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["sum", "mnist"])
    parser.add_argument("--variant", help="a section under `models` in params.yaml")
    parser.add_argument("--tutorial", help="instead of task and variant: a recipe under `tutorials`")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data", type=Path, required=True, help="the task's data directory")
    parser.add_argument("--model", type=Path, required=True, help="the .keras file to write")
    parser.add_argument("--summary", type=Path, required=True, help="the training summary .json to write")
    parser.add_argument("--history", type=Path, required=True, help="the per-epoch history .csv to write")
    parser.add_argument("--history-png", type=Path, required=True, help="the history as a picture")
    arguments = parser.parse_args()
    if not arguments.tutorial and not (arguments.task and arguments.variant):
        parser.error("give --task and --variant, or --tutorial")
    params = load_params(arguments.params)
    store.connect(params.mlflow)  # an unreachable store fails the stage now, not after training
    plan = recipe(params, arguments.task, arguments.variant, arguments.tutorial)
    name = arguments.tutorial or f"{arguments.task}-{arguments.variant}"
    stages = [f"train@{name}", f"evaluate@{name}"]
    if arguments.tutorial:
        stages = [f"tutorials/dvc.yaml:{stage}" for stage in stages]
    outputs = TrainOutputs(arguments.model, arguments.summary, arguments.history, arguments.history_png)
    used = run_params(params, plan, arguments.task, arguments.variant, arguments.tutorial)
    with runs.training_run(params.mlflow, plan.task, name, stages, used, tags={"variant": used["variant"]}):
        record = runs.record_training(plan.task, arguments.data, outputs.history_png)
        train(name, plan, params.train, arguments.data, outputs, [model_logging.EpochMetrics()], record)


if __name__ == "__main__":
    run_stage(main)
