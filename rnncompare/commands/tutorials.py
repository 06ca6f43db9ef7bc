"""The original tutorials' recipes next to the modern defaults (`make tutorials`).

`dvc repro tutorials/dvc.yaml` on params.yaml as it is (the recipes are its `tutorials` section;
slow: two of them train 10,000 steps each); everything they write lands in tutorials/results/<name>/.
The report's tutorials section reads their results, no dependency of it (they may not exist): it is
rendered again when the report exists.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.experiments.dvc_experiments import dvc

RESULTS = Path("tutorials/results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    arguments = parser.parse_args()
    load_params(arguments.params)
    dvc("repro", "tutorials/dvc.yaml")
    dvc("metrics", "show", *map(str, sorted(RESULTS.glob("*/metrics.json"))))
    if Path("reports/compare/index.md").is_file():
        status = subprocess.run(["dvc", "repro", "--force", "--single-item", "report"]).returncode
        if status:
            subprocess.run(["dvc", "checkout", "--quiet", "dvc.yaml:report"])
            sys.exit(status)


if __name__ == "__main__":
    run_stage(main)
