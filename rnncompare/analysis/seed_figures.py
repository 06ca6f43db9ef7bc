"""The pictures of a comparison over seeds: each metric's mean and interval per variant with every
seed as a dot, the validation curves' mean and spread, and the sum length sweep with intervals."""

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rnncompare.analysis.seed_runs import SeedRun  # noqa: E402
from rnncompare.report.figures import save  # noqa: E402
from rnncompare.report.tables import CURVE  # noqa: E402


def plot_error_bars(path: Path, task: str, statistics: dict, values: dict, metrics: list[str]) -> None:
    """Each metric's mean and 95% interval per variant, with every seed's value as a dot."""
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for axis, metric in zip(axes[0], metrics, strict=True):
        names = [name for name in statistics if metric in statistics[name]]
        for index, name in enumerate(names):
            summary = statistics[name][metric]
            low, high = (summary.low, summary.high) if summary.low is not None else (summary.mean, summary.mean)
            axis.errorbar(index, summary.mean, yerr=[[summary.mean - low], [high - summary.mean]], fmt="o",
                          capsize=6, color="C0")  # fmt: skip
            seeds = values[name][metric]
            axis.scatter(index + np.linspace(-0.15, 0.15, len(seeds)), seeds, s=12, color="C1", alpha=0.7, zorder=3)
        axis.set_xticks(range(len(names)), [name.split("-", 1)[1] for name in names], rotation=20)
        axis.set(title=f"{task}: {metric}", ylabel="mean, 95% interval; dots: seeds")
        axis.grid(alpha=0.3, axis="y")
    save(figure, path)


def plot_validation_bands(path: Path, task: str, runs: list[SeedRun], models: list[str]) -> None:
    """The validation curve's mean over seeds, with a band of one standard deviation (over the seeds
    that were still training at that epoch: early stopping ends some sooner)."""
    key = CURVE[task]
    figure, axis = plt.subplots(figsize=(7, 4))
    for index, model in enumerate(models):
        curves = [run.histories[model].get(key, []) for run in runs]
        longest = max(len(curve) for curve in curves)
        epochs = np.arange(1, longest + 1)
        stacked = np.full((len(curves), longest), np.nan)
        for row, curve in enumerate(curves):
            stacked[row, : len(curve)] = curve
        mean, spread = np.nanmean(stacked, axis=0), np.nanstd(stacked, axis=0)
        axis.plot(epochs, mean, color=f"C{index}", marker="." if longest < 10 else None, label=model.split("-", 1)[1])
        axis.fill_between(epochs, mean - spread, mean + spread, color=f"C{index}", alpha=0.2)
    axis.set(xlabel="epoch", ylabel=f"validation {key.removeprefix('val_')}", title=f"{task}: validation, mean ± sd")
    if task == "sum":
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend()
    save(figure, path)


def plot_sweep(path: Path, sweeps: dict[str, dict[int, dict]], trained: str) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, metric, label in zip(axes, ("rounded_accuracy", "mae"), ("rounded accuracy", "mean absolute error"),
                                   strict=True):  # fmt: skip
        for name, sweep in sweeps.items():
            lengths = list(sweep)
            means = np.array([sweep[n][metric].mean for n in lengths])
            lows = np.array([sweep[n][metric].low if sweep[n][metric].low is not None else sweep[n][metric].mean
                             for n in lengths])  # fmt: skip
            highs = np.array([sweep[n][metric].high if sweep[n][metric].high is not None else sweep[n][metric].mean
                              for n in lengths])  # fmt: skip
            axis.errorbar(lengths, means, yerr=[means - lows, highs - means], marker="o", capsize=4,
                          label=name.split("-", 1)[1])  # fmt: skip
        axis.set(xscale="log", xlabel="sequence length (bits)", ylabel=label, title=f"sum: {label} by length")
        ticks = list(next(iter(sweeps.values())))
        axis.set_xticks(ticks, [str(n) for n in ticks])
        axis.grid(alpha=0.3)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=8, title=f"trained on {trained}; mean, 95% interval")
    save(figure, path)
