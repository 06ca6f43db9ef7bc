"""The sum-of-bits dataset: right sums, right shapes, byte-identical for the same params."""

import numpy as np

from rnncompare.core.outputs import load_arrays
from rnncompare.data.sumbits import PAD
from rnncompare.data.sums import generate
from rnncompare.training.inputs import lengths_of_tests, load_task, load_tests
from tests.conftest import TINY_TRAINING, sum_params

SMALL = sum_params(seed=3, length=6, train_size=40, validation_size=10, test_size=12, test_lengths=(3, 6, 12, 30))


def test_writes_every_split_with_its_length_and_correct_sums(tmp_path):
    generate(SMALL, tmp_path / "sum")
    expected = {
        "train": (40, 6),
        "validation": (10, 6),
        "test": (12, 6),
        "test_3bits": (12, 3),
        "test_12bits": (12, 12),
        "test_30bits": (12, 30),
    }
    assert sorted(path.stem for path in (tmp_path / "sum").glob("*.npz")) == sorted(expected)
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
    generate(sum_params(**{**SMALL.__dict__, "seed": 4}), tmp_path / "b")
    assert not np.array_equal(
        load_arrays(tmp_path / "a" / "train.npz")["bits"], load_arrays(tmp_path / "b" / "train.npz")["bits"]
    )


def test_resizing_one_split_leaves_the_others_unchanged(tmp_path):
    generate(SMALL, tmp_path / "a")
    generate(sum_params(**{**SMALL.__dict__, "train_size": 99}), tmp_path / "b")
    assert (tmp_path / "a" / "test.npz").read_bytes() == (tmp_path / "b" / "test.npz").read_bytes()


def test_regenerating_replaces_the_whole_directory(tmp_path):
    generate(SMALL, tmp_path / "sum")
    generate(sum_params(**{**SMALL.__dict__, "test_lengths": (18,)}), tmp_path / "sum")
    names = sorted(p.name for p in (tmp_path / "sum").iterdir())
    assert names == ["info.json", "test.npz", "test_18bits.npz", "train.npz", "validation.npz"]
    assert [p.name for p in tmp_path.iterdir()] == ["sum"]  # no staging directory left behind


def test_balanced_training_sequences_make_every_sum_about_equally_common(tmp_path):
    fair = sum_params(seed=3, length=6, train_size=7000, validation_size=10, test_size=12)
    generate(sum_params(**{**fair.__dict__, "train_balanced_fraction": 1.0}), tmp_path / "balanced")
    generate(fair, tmp_path / "fair")
    balanced_sums = load_arrays(tmp_path / "balanced" / "train.npz")["sums"]
    fair_sums = load_arrays(tmp_path / "fair" / "train.npz")["sums"]
    shares = np.bincount(balanced_sums.astype(int), minlength=7) / len(balanced_sums)
    np.testing.assert_allclose(shares, 1 / 7, rtol=0.2)  # uniform over 0..6
    assert np.mean(fair_sums == 6) < 0.03  # fair bits: all ones is 1 in 64


def test_balancing_changes_only_the_training_split(tmp_path):
    generate(SMALL, tmp_path / "a")
    generate(sum_params(**{**SMALL.__dict__, "train_balanced_fraction": 0.5}), tmp_path / "b")
    for name in ("validation.npz", "test.npz", "test_3bits.npz", "test_30bits.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "train.npz").read_bytes() != (tmp_path / "b" / "train.npz").read_bytes()
    arrays = load_arrays(tmp_path / "b" / "train.npz")
    np.testing.assert_array_equal(arrays["sums"], arrays["bits"].sum(axis=(1, 2)))


def test_balanced_sequences_come_last_so_the_first_rows_keep_the_seeds_fair_bits(tmp_path):
    generate(SMALL, tmp_path / "fair")
    generate(sum_params(**{**SMALL.__dict__, "train_balanced_fraction": 0.25}), tmp_path / "mixed")
    fair, mixed = (load_arrays(tmp_path / name / "train.npz")["bits"] for name in ("fair", "mixed"))
    kept = len(fair) - round(len(fair) * 0.25)
    np.testing.assert_array_equal(mixed[:kept], fair[:kept])
    assert not np.array_equal(mixed[kept:], fair[kept:])


def test_the_length_sweep_is_read_back_shortest_first_with_each_set_s_length(tmp_path):
    generate(SMALL, tmp_path / "sum")
    lengths = lengths_of_tests("sum", tmp_path / "sum")
    assert lengths == {"test": 6, "test_3bits": 3, "test_12bits": 12, "test_30bits": 30}
    tests = load_tests("sum", tmp_path / "sum")
    assert list(tests) == ["test_3bits", "test", "test_12bits", "test_30bits"]
    assert [bits.shape[1] for bits, _ in tests.values()] == [3, 6, 12, 30]


MIXED = sum_params(seed=3, length=6, train_size=3000, validation_size=500, test_size=12, train_lengths=(1, 20))


def test_mixed_lengths_pad_each_sequence_after_its_last_bit_and_sum_only_the_bits(tmp_path):
    generate(MIXED, tmp_path / "sum")
    for split in ("train", "validation"):
        arrays = load_arrays(tmp_path / "sum" / f"{split}.npz")
        bits = arrays["bits"][:, :, 0]
        assert bits.shape[1] == 20
        lengths = (bits != PAD).sum(axis=1)
        assert lengths.min() == 1 and lengths.max() == 20  # every length of the range occurs
        shares = np.bincount(lengths)[1:] / len(lengths)
        np.testing.assert_allclose(shares, 1 / 20, atol=0.02 if split == "train" else 0.04)
        right_padded = np.all(bits[np.arange(20)[np.newaxis, :] >= lengths[:, np.newaxis]] == PAD)
        assert right_padded and set(np.unique(bits[bits != PAD])) <= {0.0, 1.0}
        np.testing.assert_array_equal(arrays["sums"], np.where(bits == PAD, 0, bits).sum(axis=1))
    tests = load_tests("sum", tmp_path / "sum")
    assert all(not np.any(bits == PAD) for bits, _ in tests.values())  # the sweep's sets have fixed lengths
    assert load_task("sum", tmp_path / "sum", TINY_TRAINING, 0).padding == PAD
    generate(SMALL, tmp_path / "fixed")
    assert load_task("sum", tmp_path / "fixed", TINY_TRAINING, 0).padding is None
