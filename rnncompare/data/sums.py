"""The sum-of-bits dataset as the generate_sum stage writes it: every split, with a test set for
every length of the sweep."""

import logging
from pathlib import Path

from rnncompare.config.params import SumParams
from rnncompare.core.outputs import replaced_directory, save_arrays, write_json
from rnncompare.data.sumbits import PAD, make_mixed_split, make_split

log = logging.getLogger(__name__)


def split_plan(params: SumParams) -> dict[str, tuple[int, int | tuple[int, int]]]:
    """Name -> (number of sequences, sequence length or [shortest, longest]) for every split."""
    training_length = tuple(params.train_lengths) if params.train_lengths else params.length
    plan = {"train": (params.train_size, training_length), "validation": (params.validation_size, training_length)}
    plan.update({name: (params.test_size, length) for name, length in params.test_sets().items()})
    return plan


def generate(params: SumParams, output: Path) -> None:
    """Write one .npz per split (bits float32[n, length, 1], sums float32[n]) and info.json."""
    plan = split_plan(params)
    with replaced_directory(output) as staging:
        for stream, (name, (count, length)) in enumerate(plan.items()):
            balanced = params.train_balanced_fraction if name == "train" else 0.0
            mixed = isinstance(length, tuple)
            make = make_mixed_split if mixed else make_split
            bits, sums = make(count, length, params.seed, stream, balanced)
            save_arrays(staging / f"{name}.npz", bits=bits, sums=sums)
            log.info(
                "%s: %d sequences of %s bits%s",
                name,
                count,
                f"{length[0]} to {length[1]} (padded with {PAD:g})" if mixed else length,
                f", {balanced:.0%} of them with uniformly distributed sums" if balanced else "",
            )
        write_json(
            staging / "info.json",
            {
                "seed": params.seed,
                "train_balanced_fraction": params.train_balanced_fraction,
                "train_lengths": list(params.train_lengths) if params.train_lengths else None,
                "padding": PAD if params.train_lengths else None,
                "splits": {
                    name: {"count": count, "length": list(length) if isinstance(length, tuple) else length}
                    for name, (count, length) in plan.items()
                },
            },
        )
