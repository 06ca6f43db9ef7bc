"""Move a task's `champion` alias to a registered version by hand (`make promote TASK=sum VERSION=3`).

The champion's description (models/champion-<task>.json) and the report follow, and dvc.lock
records them, so the next `dvc repro` keeps the alias where it was put.
"""

import argparse
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.experiments.dvc_experiments import dvc
from rnncompare.report.tables import TASKS
from rnncompare.tracking import model_registry, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--version", type=int, required=True, help="a registered version (make ui lists them)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    store.connect(params.mlflow)
    this_run = model_registry.promote_by_hand(arguments.task, arguments.version, params.mlflow)
    model_registry.write_champion(
        Path(f"models/champion-{arguments.task}.json"), arguments.task, params.mlflow, this_run
    )
    dvc("commit", "--force", "--quiet", f"register@{arguments.task}")
    dvc("repro", "report")


if __name__ == "__main__":
    run_stage(main)
