"""The sum-of-bits dataset: right sums, right shapes, byte-identical for the same params."""

import numpy as np

from rnncompare.config import SumParams
from rnncompare.outputs import load_arrays
from stages.generate_sum import generate

SMALL = SumParams(seed=3, length=6, train_size=40, validation_size=10, test_size=12, long_factors=(2, 5))


def test_writes_every_split_with_its_length_and_correct_sums(tmp_path):
    generate(SMALL, tmp_path / "sum")
    expected = {"train": (40, 6), "validation": (10, 6), "test": (12, 6), "test_2x": (12, 12), "test_5x": (12, 30)}
    for name, (count, length) in expected.items():
        arrays = load_arrays(tmp_path / "sum" / f"{name}.npz")
        assert arrays["bits"].shape == (count, length, 1) and arrays["bits"].dtype == np.float32
        assert set(np.unique(arrays["bits"])) <= {0.0, 1.0}
        np.testing.assert_array_equal(arrays["sums"], arrays["bits"].sum(axis=(1, 2)))


def test_same_params_give_byte_identical_files(tmp_path):
    generate(SMALL, tmp_path / "first")
    generate(SMALL, tmp_path / "second")
    for path in sorted((tmp_path / "first").iterdir()):
        assert path.read_bytes() == (tmp_path / "second" / path.name).read_bytes(), path.name


def test_another_seed_gives_other_sequences(tmp_path):
    generate(SMALL, tmp_path / "a")
    generate(SumParams(**{**SMALL.__dict__, "seed": 4}), tmp_path / "b")
    assert not np.array_equal(
        load_arrays(tmp_path / "a" / "train.npz")["bits"], load_arrays(tmp_path / "b" / "train.npz")["bits"]
    )


def test_resizing_one_split_leaves_the_others_unchanged(tmp_path):
    generate(SMALL, tmp_path / "a")
    generate(SumParams(**{**SMALL.__dict__, "train_size": 99}), tmp_path / "b")
    assert (tmp_path / "a" / "test.npz").read_bytes() == (tmp_path / "b" / "test.npz").read_bytes()


def test_regenerating_replaces_the_whole_directory(tmp_path):
    generate(SMALL, tmp_path / "sum")
    generate(SumParams(**{**SMALL.__dict__, "long_factors": (3,)}), tmp_path / "sum")
    names = sorted(p.name for p in (tmp_path / "sum").iterdir())
    assert names == ["info.json", "test.npz", "test_3x.npz", "train.npz", "validation.npz"]
    assert [p.name for p in tmp_path.iterdir()] == ["sum"]  # no staging directory left behind
