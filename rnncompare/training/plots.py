"""Pictures readable without DVC: PNGs drawn with matplotlib's file-only backend."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_confusion_png(path: Path, matrix: list[list[int]], title: str) -> None:
    """A 10 x 10 confusion matrix, true class down, predicted class across, counts in the cells."""
    counts = np.asarray(matrix)
    figure, axes = plt.subplots(figsize=(6, 5.5))
    axes.imshow(np.log1p(counts), cmap="Blues")  # log scale: the off-diagonal errors stay visible
    for (row, column), count in np.ndenumerate(counts):
        if count:
            axes.text(
                column,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if row == column else "black",
            )
    axes.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title=f"{title}: accuracy {np.trace(counts) / counts.sum():.2%}",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_sum_predictions_png(path: Path, tests: dict, predictions: dict, title: str) -> None:
    """Predicted against true sum, one colour per test length: off the diagonal = not counting."""
    figure, axes = plt.subplots(figsize=(6, 5.5))
    highest = max(float(targets.max()) for _, targets in tests.values())
    axes.plot([0, highest], [0, highest], color="grey", linewidth=1, label="exact")
    for name, (inputs, targets) in tests.items():
        axes.scatter(
            targets.reshape(-1), predictions[name].reshape(-1), s=6, alpha=0.4, label=f"{name} ({inputs.shape[1]} bits)"
        )
    axes.set(xlabel="true sum", ylabel="predicted sum", title=f"{title}: predictions by sequence length")
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_history_png(path: Path, history: dict[str, list[float]], title: str) -> None:
    """Loss and metric per epoch, train against validation, side by side."""
    metric = next(name for name in history if name not in ("loss", "learning_rate") and not name.startswith("val_"))
    figure, panels = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(history["loss"]) + 1)
    for axes, name in zip(panels, ("loss", metric), strict=True):
        axes.plot(epochs, history[name], label="train")
        axes.plot(epochs, history[f"val_{name}"], label="validation")
        axes.set(xlabel="epoch", ylabel=name, title=f"{title}: {name}")
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
