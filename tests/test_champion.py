"""The champion rule: the alias moves only to a better model measured on the same test data."""

import numpy as np

from rnncompare.core.outputs import save_arrays
from rnncompare.tracking.champion import Standing, decide, digest_of_test_data

SAME = "a" * 64
OTHER = "b" * 64


def test_the_first_candidate_becomes_champion():
    assert decide(Standing(1, 0.5, SAME), None, "test.mae", "min") == (True, "no champion yet")


def test_a_better_candidate_on_the_same_test_data_is_promoted():
    promote, reason = decide(Standing(2, 0.08, SAME), Standing(1, 0.12, SAME), "test.mae", "min")
    assert promote and reason == "test.mae 0.08 beats champion version 1's 0.12"


def test_a_worse_candidate_leaves_the_alias():
    promote, reason = decide(Standing(3, 0.124, SAME), Standing(1, 0.085, SAME), "test.mae", "min")
    assert not promote and "does not beat champion version 1's 0.085" in reason


def test_direction_max_prefers_the_higher_value():
    assert decide(Standing(2, 0.98, SAME), Standing(1, 0.97, SAME), "test.accuracy", "max")[0]
    assert not decide(Standing(2, 0.96, SAME), Standing(1, 0.97, SAME), "test.accuracy", "max")[0]


def test_a_tie_keeps_the_champion():
    assert not decide(Standing(2, 0.97, SAME), Standing(1, 0.97, SAME), "test.accuracy", "max")[0]


def test_models_measured_on_other_test_data_are_never_compared():
    promote, reason = decide(Standing(2, 0.0001, OTHER), Standing(1, 0.5, SAME), "test.mae", "min", "sum")
    assert not promote and "measured on other test data" in reason and "not compared" in reason
    assert "`make promote TASK=sum VERSION=2` makes it the champion by hand" in reason


def test_a_champion_without_the_metric_is_not_compared():
    promote, reason = decide(Standing(2, 0.1, SAME), Standing(1, None, SAME), "test.mae", "min")
    assert not promote and "records no test.mae" in reason


def test_the_champion_rerun_stays_champion():
    assert decide(Standing(4, 0.3, SAME), Standing(4, 0.3, SAME), "test.mae", "min")[0]


def test_test_data_digest_changes_with_any_test_file_and_ignores_training_files(tmp_path):
    save_arrays(tmp_path / "test.npz", bits=np.zeros((4, 3, 1)))
    save_arrays(tmp_path / "train.npz", bits=np.zeros((8, 3, 1)))
    before = digest_of_test_data(tmp_path)
    save_arrays(tmp_path / "train.npz", bits=np.ones((8, 3, 1)))
    assert digest_of_test_data(tmp_path) == before
    save_arrays(tmp_path / "test_20bits.npz", bits=np.zeros((4, 6, 1)))
    assert digest_of_test_data(tmp_path) != before
