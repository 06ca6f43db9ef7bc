"""The report's pictures, drawn with matplotlib's file-only backend: every variant's validation
curves, a bar chart of the headline test metrics, and how far each sum model counts."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rnncompare.core.nested import flatten  # noqa: E402
from rnncompare.report.tables import BARS, CURVE, SWEEP_METRICS  # noqa: E402


def save(figure, path: Path) -> None:
    """A figure as a PNG, laid out, and closed (pyplot keeps every open one)."""
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_lengths(path: Path, curves: dict[str, dict[int, dict]], training_lengths: str) -> None:
    """One panel per metric, one line per variant, against the sequence length (log scale)."""
    figure, axes = plt.subplots(1, len(SWEEP_METRICS), figsize=(11, 4))
    for axis, (metric, label) in zip(axes, SWEEP_METRICS.items(), strict=True):
        for name, curve in curves.items():
            axis.plot(list(curve), [values[metric] for values in curve.values()], marker="o", label=name)
        axis.set(xscale="log", xlabel="sequence length (bits)", ylabel=label, title=f"sum: {label} by length")
        axis.set_xticks(list(next(iter(curves.values()))), [str(n) for n in next(iter(curves.values()))])
        axis.grid(alpha=0.3)
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=8, title=f"trained on {training_lengths}")
    save(figure, path)


def plot_curves(path: Path, task: str, histories: dict) -> None:
    figure, axis = plt.subplots(figsize=(7, 4))
    for name, history in histories.items():
        if CURVE[task] in history:
            axis.plot(history["epoch"], history[CURVE[task]], marker=".", label=name)
    axis.set(xlabel="epoch", ylabel=f"validation {CURVE[task].removeprefix('val_')}", title=f"{task}: validation")
    if task == "sum":
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend()
    save(figure, path)


def plot_bars(path: Path, task: str, metrics: dict) -> None:
    names = list(metrics)
    keys = BARS[task]
    figure, axis = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(keys)
    for index, key in enumerate(keys):
        values = [flatten(metrics[name]).get(key, 0.0) for name in names]
        bars = axis.bar([i + index * width for i in range(len(names))], values, width, label=key)
        axis.bar_label(bars, fmt="%.3f", fontsize=7)
    axis.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(names))], names, rotation=20)
    axis.set(ylim=(0, 1.05), title=f"{task}: test metrics")
    axis.legend(fontsize=8)
    save(figure, path)
