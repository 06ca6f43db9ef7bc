"""Statistics over training seeds, all from scipy.stats: a mean's 95% interval, and paired tests
between variants corrected for multiple comparisons.

Why these: with 5 seeds a bootstrap interval is too narrow (it cannot see past the 5 values it
resamples), so the interval is Student's t. Variants are compared paired by seed (the same data,
split and seed) with a paired t-test, which can reach p < 0.05 at N = 5 where a Wilcoxon or sign
test cannot go below 0.0625, and its p-values are adjusted by Benjamini-Hochberg, which keeps the
share of false discoveries among the differences called significant at 5%.
"""

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    """One metric of one variant over its seeds."""

    n: int
    mean: float
    std: float  # sample standard deviation (N - 1); 0 when every seed gave the same value
    low: float | None  # the mean's 95% interval; [mean, mean] when every seed gave the same value,
    high: float | None  # None for a single seed (no interval can be known)


def summarize(values, limits: tuple[float, float] = (-np.inf, np.inf)) -> Summary:
    """`limits`: the values the metric can take (accuracy: 0 to 1); the interval is clipped to them,
    as a t interval of values near a bound reaches past it."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return Summary(len(values), mean, 0.0, None, None)
    if np.ptp(values) == 0:  # no spread: the t interval would be 0/0
        return Summary(len(values), mean, 0.0, mean, mean)
    std = float(values.std(ddof=1))
    low, high = stats.t.interval(CONFIDENCE, len(values) - 1, loc=mean, scale=stats.sem(values))
    return Summary(len(values), mean, std, float(max(low, limits[0])), float(min(high, limits[1])))


def paired_p_value(first, second) -> float:
    """Two-sided paired t-test of first - second, paired by seed. Identical samples give 1; a
    difference that is the same non-zero amount for every seed gives 0 (t is infinite)."""
    differences = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    if len(differences) < 2:
        raise ValueError("a paired test needs at least 2 seeds")
    if not np.all(np.isfinite(differences)):  # a diverged seed (NaN): no test is possible
        return float("nan")
    if np.ptp(differences) == 0:
        return 1.0 if differences[0] == 0 else 0.0
    return float(stats.ttest_rel(first, second).pvalue)


@dataclass(frozen=True)
class Comparison:
    first: str
    second: str
    difference: float  # mean of first - second, over seeds
    p_value: float
    p_adjusted: float  # Benjamini-Hochberg, over every pair of the metric
    significant: bool  # p_adjusted < ALPHA


def compare_pairs(samples: dict[str, list[float]]) -> list[Comparison]:
    """Every pair of variants, each sample ordered by seed (the same seeds for all)."""
    pairs = list(itertools.combinations(samples, 2))
    if not pairs:
        return []
    p_values = np.array([paired_p_value(samples[a], samples[b]) for a, b in pairs])
    adjusted = np.full(len(pairs), np.nan)  # a pair with a NaN stays untested, and out of the correction
    tested = np.isfinite(p_values)
    if tested.any():
        adjusted[tested] = stats.false_discovery_control(p_values[tested], method="bh")
    return [
        Comparison(a, b, float(np.mean(samples[a]) - np.mean(samples[b])), p, float(q), bool(q < ALPHA))
        for (a, b), p, q in zip(pairs, p_values, adjusted, strict=True)
    ]


def ranking(samples: dict[str, list[float]], higher_is_better: bool, comparisons: list[Comparison]) -> list[str]:
    """The variants best first, each step between neighbours said in words (significant or not),
    then every significant pair, neighbours or not: `a` and `b` may not differ, nor `b` and `c`,
    while `a` and `c` do."""
    order = sorted(samples, key=lambda name: np.mean(samples[name]), reverse=higher_is_better)
    verdicts = {frozenset((c.first, c.second)): c for c in comparisons}
    sentences = []
    for better, worse in itertools.pairwise(order):
        comparison = verdicts[frozenset((better, worse))]
        if comparison.significant:
            sentences.append(f"{better} is ahead of {worse} (significant, adjusted p = {comparison.p_adjusted:.3g})")
        else:
            sentences.append(
                f"{better} and {worse} are not significantly different (adjusted p = {comparison.p_adjusted:.3g})"
            )
    rank = {name: index for index, name in enumerate(order)}
    significant = sorted((c for c in comparisons if c.significant), key=lambda c: (rank[c.first], rank[c.second]))
    if significant:
        pairs = []
        for c in significant:
            better, worse = (c.first, c.second) if rank[c.first] < rank[c.second] else (c.second, c.first)
            pairs.append(f"{better} over {worse} ({c.p_adjusted:.3g})")
        sentences.append("significant differences: " + ", ".join(pairs))
    else:
        sentences.append("no pair differs significantly")
    return sentences
