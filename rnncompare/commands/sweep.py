"""A grid of DVC experiments through DVC's queue (`make sweep`).

    rnncompare sweep --set models.lstm.units=64,128,256 --profile ci
    rnncompare sweep --set train.seed=1,2,3 --set train.sum.epochs=20,40 --jobs 3

Each comma-separated value, and each combination of several --set, is one experiment (DVC's own
grid syntax); the queue runs them --jobs at a time, then `dvc exp show` shows each one's test scores.
"""

import argparse
import logging
import time
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.experiments import profiles
from rnncompare.experiments.dvc_experiments import dvc, untracked_files

log = logging.getLogger(__name__)

# `dvc exp show --drop` takes a regular expression that must match a column's whole name: every
# column but the experiment's name, each model's test accuracy (MNIST) or mean absolute error (sum),
# and the params.
SCORES = r"(?!Experiment$|.*:test\.(accuracy|mae)$|(sum|mnist|train|models)\.).*"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", required=True, metavar="KEY=VALUES", help="e.g. train.seed=1,2,3")
    parser.add_argument("--jobs", type=int, default=2, help="experiments run at once")
    parser.add_argument("--profile", help="a profile of profiles/, for every experiment")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    arguments = parser.parse_args()
    load_params(arguments.params)
    profile, settings = profiles.settings_of(arguments.profile, arguments.params)
    if profile:
        profiles.validated(arguments.params, settings, f"profile {profile.name} ({profile.path})")
    queued = [argument for setting in settings + arguments.set for argument in ("--set-param", setting)]
    queued += [argument for path in untracked_files() for argument in ("--copy-paths", path)]
    name = f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"  # DVC numbers a grid's experiments: <name>-1, <name>-2, ...
    dvc("exp", "run", "--queue", "--name", name, *queued)
    dvc("exp", "run", "--run-all", "--jobs", str(arguments.jobs))
    dvc("exp", "show", "--only-changed", "--drop", SCORES)
    log.info("the sweep's experiments are %s-1, %s-2, ... in the table above (dvc exp show lists them all)", name, name)


if __name__ == "__main__":
    run_stage(main)
