"""Stage generate_sum: write the sum-of-bits splits, with a test set for every length of the sweep."""

import argparse
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.data.sums import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)write")
    arguments = parser.parse_args()
    generate(load_params(arguments.params).sum, arguments.out)


if __name__ == "__main__":
    run_stage(main)
