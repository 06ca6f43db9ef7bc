"""Send the DVC remote this clone's data, models and run-cache entries (`make push`).

`dvc push --run-cache` sends the entries and the outputs the workspace's dvc.lock names; then
every other file the run-cache entries name (rnncompare/team/runcache.py), so that a teammate's
`make repro` restores those stages too.
"""

import argparse

from rnncompare.core.errors import PipelineError, run_stage
from rnncompare.experiments.dvc_experiments import dvc
from rnncompare.team import runcache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-r", "--remote", help="the DVC remote (default: the default remote)")
    arguments = parser.parse_args()
    dvc("push", "--run-cache", *(["--remote", arguments.remote] if arguments.remote else []))
    _, failed = runcache.push(arguments.remote)
    if failed:
        raise PipelineError(
            f"{failed} files named by the run-cache could not be sent (missing from .dvc/cache, or the remote "
            "refused them): see the messages above; a teammate's `make repro` reruns the stages that need them."
        )


if __name__ == "__main__":
    run_stage(main)
