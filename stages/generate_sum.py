"""Stage generate_sum: write the sum-of-bits splits and the longer length-generalisation test sets."""

import argparse
import logging
from pathlib import Path

from rnncompare.config import SumParams, load_params
from rnncompare.errors import run_stage
from rnncompare.outputs import replaced_directory, save_arrays, write_json
from rnncompare.sumbits import make_split

log = logging.getLogger(__name__)


def split_plan(params: SumParams) -> dict[str, tuple[int, int]]:
    """Name -> (number of sequences, sequence length) for every split the stage writes."""
    plan = {
        "train": (params.train_size, params.length),
        "validation": (params.validation_size, params.length),
        "test": (params.test_size, params.length),
    }
    for factor in params.long_factors:
        plan[f"test_{factor}x"] = (params.test_size, factor * params.length)
    return plan


def generate(params: SumParams, output: Path) -> None:
    """Write one .npz per split (bits float32[n, length, 1], sums float32[n]) and info.json."""
    plan = split_plan(params)
    with replaced_directory(output) as staging:
        for stream, (name, (count, length)) in enumerate(plan.items()):
            balanced = params.train_balanced_fraction if name == "train" else 0.0
            bits, sums = make_split(count, length, params.seed, stream, balanced)
            save_arrays(staging / f"{name}.npz", bits=bits, sums=sums)
            log.info(
                "%s: %d sequences of %d bits%s",
                name,
                count,
                length,
                f", {balanced:.0%} of them with uniformly distributed sums" if balanced else "",
            )
        write_json(
            staging / "info.json",
            {
                "seed": params.seed,
                "train_balanced_fraction": params.train_balanced_fraction,
                "splits": {name: {"count": count, "length": length} for name, (count, length) in plan.items()},
            },
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)write")
    arguments = parser.parse_args()
    generate(load_params(arguments.params).sum, arguments.out)


if __name__ == "__main__":
    run_stage(main)
