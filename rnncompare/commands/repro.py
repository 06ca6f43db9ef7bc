"""Run the pipeline (`make repro`): params.yaml checked first, every key, before DVC removes any output.

    rnncompare repro                      # dvc repro in the workspace, on params.yaml as it is
    rnncompare repro --profile ci         # as a DVC experiment in a temporary copy: the workspace stays as it is
    rnncompare repro --profile ci --set train.sum.epochs=20   # ... with more settings
    rnncompare repro --set train.sum.epochs=20 --name longer  # params.yaml with a setting, as an experiment

In the workspace, a failed stage's last good outputs come back from DVC's cache (`dvc checkout`).
With a default DVC remote, what unchanged stages need, and every stage someone pushed with these
params and code (the run-cache), come from the remote instead of being recomputed (--no-pull: not).
"""

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.core.repository import EXECUTION_VARIABLE
from rnncompare.experiments import profile_runs, profiles

log = logging.getLogger(__name__)


def has_default_remote() -> bool:
    return subprocess.run(["dvc", "remote", "default"], capture_output=True).returncode == 0


def repro_in_workspace(pull: bool) -> None:
    """`dvc repro`; after a failure, the outputs dvc.lock describes are put back (`dvc checkout`)."""
    status = subprocess.run(["dvc", "repro", *(["--pull"] if pull else [])]).returncode
    if status:
        log.error("dvc repro failed: restoring the last good outputs (dvc checkout dvc.yaml)")
        subprocess.run(["dvc", "checkout", "--quiet", "dvc.yaml"])
        sys.exit(status)


def repro_as_experiment(profile_name: str | None, extra: list[str], name: str | None, params: Path, pull: bool):
    """The pipeline under a profile's values and `extra` settings, as a DVC experiment in a temporary copy."""
    profile, settings = profiles.settings_of(profile_name, params)
    described = [f"profile {profile.name} ({profile.path})"] if profile else []
    profiles.validated(params, settings + extra, " and ".join(described + extra) or "no settings")
    experiment = profile_runs.run(profile, settings + extra, pull, name)
    report = profile_runs.copy_report(experiment, Path("reports") / (profile.name if profile else experiment.name))
    gate = f"make check PROFILE={profile.name}" if profile and not name else "none (a profile's own runs only)"
    print(
        f"\n{f'Profile {profile.name}' if profile else 'The pipeline'} ran as DVC experiment {experiment.name}; "
        "the workspace is as it was.\n"
        f"  its report:            {report}/index.md\n"
        f"  its params and scores: dvc exp show (dvc exp diff, dvc plots diff {experiment.name})\n"
        f"  its MLflow runs:       make ui\n"
        f"  the gate on it:        {gate}\n"
        f"  into the workspace:    dvc exp apply {experiment.name}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="a profile of profiles/, run as a DVC experiment")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting, as an experiment")
    parser.add_argument("--name", help="the experiment's name (default: <profile>-<time>)")
    parser.add_argument("--pull", action=argparse.BooleanOptionalAction, help="default: when a DVC remote is set")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    arguments = parser.parse_args()
    load_params(arguments.params)  # a mistake in params.yaml itself is named as such
    pull = has_default_remote() if arguments.pull is None else arguments.pull
    os.environ.setdefault(EXECUTION_VARIABLE, f"{time.strftime('%Y%m%dT%H%M%S')}-repro-{os.getpid()}")
    if arguments.profile or arguments.set or arguments.name:
        repro_as_experiment(arguments.profile, arguments.set, arguments.name, arguments.params, pull)
    else:
        repro_in_workspace(pull)


if __name__ == "__main__":
    run_stage(main)
