"""Seed statistics on tiny cases whose answers are known by hand."""

import math

import numpy as np
import pytest

from rnncompare.analysis.statistics import compare_pairs, paired_p_value, ranking, summarize


def test_the_interval_of_five_values_is_student_s_t():
    # mean 3, s = sqrt(2.5), half-width t(0.975, 4) * s / sqrt(5) = 2.776445 * 0.707107 = 1.963243
    summary = summarize([1, 2, 3, 4, 5])
    assert summary.n == 5 and summary.mean == 3.0
    assert summary.std == pytest.approx(math.sqrt(2.5))
    assert (summary.low, summary.high) == pytest.approx((3 - 1.963243, 3 + 1.963243), abs=1e-6)


def test_no_spread_gives_the_value_and_a_zero_width_interval_never_nan():
    summary = summarize([1.0] * 5)  # the sum task's 100% at every seed
    assert (summary.mean, summary.std, summary.low, summary.high) == (1.0, 0.0, 1.0, 1.0)


def test_an_interval_never_reaches_past_what_the_metric_can_take():
    summary = summarize([0.98, 1.0, 1.0], limits=(0.0, 1.0))
    assert summary.high == 1.0 and summary.low == pytest.approx(1 - 0.02 / 3 - 4.302653 * summary.std / math.sqrt(3))


def test_one_seed_has_no_interval():
    summary = summarize([0.97])
    assert summary.mean == 0.97 and summary.low is None and summary.high is None


def test_the_paired_t_test_matches_the_hand_computed_statistic():
    # differences 0.1, 0.3, -0.1, 0.4, 0.2: mean 0.18, s = sqrt(0.037), t = 0.18 / (s / sqrt(5)) = 2.09246
    first = [1.1, 2.3, 2.9, 4.4, 5.2]
    second = [1.0, 2.0, 3.0, 4.0, 5.0]
    from scipy import stats

    assert paired_p_value(first, second) == pytest.approx(2 * stats.t.sf(2.09246, 4), rel=1e-4)
    assert paired_p_value(first, second) == pytest.approx(0.1045, abs=1e-3)


def test_identical_samples_are_not_different_and_give_no_nan():
    same = [0.98, 0.97, 0.99, 0.98, 0.975]
    assert paired_p_value(same, same) == 1.0
    (comparison,) = compare_pairs({"a": same, "b": list(same)})
    assert comparison.p_value == 1.0 and comparison.p_adjusted == 1.0 and not comparison.significant
    assert comparison.difference == 0.0


def test_a_constant_shift_at_every_seed_is_a_difference():
    assert paired_p_value([2, 3, 4], [1, 2, 3]) == 0.0


def test_benjamini_hochberg_adjusts_every_pair():
    # four pairs with p = 0.005, 0.01, 0.03, 0.04 adjust to 0.02, 0.02, 0.04, 0.04 (p * 4 / rank, monotone)
    from scipy import stats

    np.testing.assert_allclose(
        stats.false_discovery_control([0.01, 0.04, 0.03, 0.005], method="bh"), [0.02, 0.04, 0.04, 0.02]
    )


def test_a_clear_difference_at_five_seeds_is_significant_after_correction():
    noise = np.array([0.001, -0.002, 0.0015, 0.0, -0.001])
    samples = {
        "lstm": list(0.980 + noise),
        "gru": list(0.979 + noise[::-1]),
        "lnlstm": list(0.9795 + np.roll(noise, 2)),
        "bilstm": list(0.984 + np.roll(noise, 1)),
        "rnn": list(0.960 + noise),
    }
    comparisons = {frozenset((c.first, c.second)): c for c in compare_pairs(samples)}
    assert len(comparisons) == 10
    assert comparisons[frozenset(("rnn", "lstm"))].significant
    assert comparisons[frozenset(("bilstm", "lstm"))].significant
    assert not comparisons[frozenset(("gru", "lnlstm"))].significant
    assert all(0 <= c.p_value <= c.p_adjusted <= 1 for c in comparisons.values())
    words = ranking(samples, higher_is_better=True, comparisons=list(comparisons.values()))
    assert words[0].startswith("bilstm is ahead of lstm (significant")
    assert any("are not significantly different" in sentence for sentence in words)
    assert words[-1].startswith("significant differences: ") and "lstm over rnn" in words[-1]


def test_the_ranking_names_a_significant_pair_that_is_not_a_neighbour():
    steady = np.array([0.0, 0.001, -0.001, 0.0005, -0.0005])
    noisy = 0.06 * np.array([1, -1, 1, -1, 0.5])
    samples = {"a": list(0.90 + steady), "b": list(0.85 + noisy), "c": list(0.80 + steady)}
    words = ranking(samples, True, compare_pairs(samples))
    assert words[0].startswith("a and b are not") and words[1].startswith("b and c are not")
    assert words[2] == "significant differences: a over c (0)"


def test_a_diverged_seed_leaves_its_pairs_untested_and_the_others_corrected():
    samples = {"a": [0.9, 0.91, 0.92], "b": [0.5, 0.51, 0.52], "c": [0.9, float("nan"), 0.92]}
    comparisons = {(c.first, c.second): c for c in compare_pairs(samples)}
    assert math.isnan(comparisons[("a", "c")].p_adjusted) and not comparisons[("a", "c")].significant
    assert comparisons[("a", "b")].p_adjusted == 0.0  # constant shift; adjusted over the 1 tested pair


def test_ranking_reads_lower_is_better_for_errors():
    comparisons = compare_pairs({"a": [0.1, 0.11, 0.12], "b": [0.5, 0.52, 0.49]})
    assert ranking({"a": [0.1, 0.11, 0.12], "b": [0.5, 0.52, 0.49]}, False, comparisons)[0].startswith("a is ahead")
