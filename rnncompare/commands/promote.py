"""Move a task's `champion` alias to a registered version by hand (`make promote TASK=sum VERSION=3`).

Where the workspace holds the pipeline's outputs (`make repro`, or `dvc exp apply` of a profile's
run), the champion's description (models/champion-<task>.json) and the report follow, and dvc.lock
records them, so the next `dvc repro` keeps the alias where it was put.
"""

import argparse
import logging
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.experiments.dvc_experiments import dvc
from rnncompare.report.tables import TASKS
from rnncompare.tracking import model_registry, store

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--version", type=int, required=True, help="a registered version (make ui lists them)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    store.connect(params.mlflow)
    this_run = model_registry.promote_by_hand(arguments.task, arguments.version, params.mlflow)
    description = Path(f"models/champion-{arguments.task}.json")
    if not description.is_file():  # a profile's run is an experiment: its description stays in it
        log.info("the workspace holds no %s: the registry's alias moved, nothing else follows it", description)
        return
    model_registry.write_champion(description, arguments.task, params.mlflow, this_run)
    dvc("commit", "--force", "--quiet", f"register@{arguments.task}")
    dvc("repro", "report")


if __name__ == "__main__":
    run_stage(main)
