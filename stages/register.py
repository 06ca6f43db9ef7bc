"""Stage register@<task>: register the task's best model of this run in MLflow, and move the alias
`champion` to it only if it beats the current champion (rnncompare/tracking/champion.py).

The best is chosen among the task's variants by params.yaml's `mlflow.champion.<task>` (a key of
metrics/<task>-<variant>.json, e.g. `test.accuracy`, and a direction, max or min). Writes
models/champion-<task>.json: the registry's champion after this stage, and what became of this
run's best model (its version, whether it was promoted and why).
"""

import argparse
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.tracking import model_registry, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["sum", "mnist"], required=True)
    parser.add_argument("--variants", nargs="+", help="the variants to choose from (default: params.yaml models)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data", type=Path, required=True, help="the task's data directory (its test files' digest)")
    parser.add_argument("--metrics-dir", type=Path, default=Path("metrics"), help="holds <task>-<variant>.json")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="holds the training summaries")
    parser.add_argument("--out", type=Path, required=True, help="the champion's description (.json) to write")
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    store.connect(params.mlflow)
    variants = arguments.variants or list(params.models)
    this_run = model_registry.register(
        arguments.task, variants, arguments.data, arguments.metrics_dir, arguments.models_dir, params.mlflow
    )
    model_registry.write_champion(arguments.out, arguments.task, params.mlflow, this_run)


if __name__ == "__main__":
    run_stage(main)
