"""Stage fetch_mnist: fetch, verify and parse MNIST, and write arrays that training loads fast."""

import argparse
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.data.mnist import fetch_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)write")
    arguments = parser.parse_args()
    fetch_mnist(load_params(arguments.params).mnist, arguments.out)


if __name__ == "__main__":
    run_stage(main)
