"""The plot of a model's test metrics, as data (.csv, for `dvc plots`) and as a picture (.png, drawn
with matplotlib's file-only backend): for MNIST the confusion matrix, for sum the predicted against
the true sum at every test length."""

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from rnncompare.config.params import Task  # noqa: E402
from rnncompare.core.outputs import replaced_file  # noqa: E402


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


def write_confusion_csv(path: Path, matrix: list[list[int]]) -> None:
    """One row per test image, as DVC's confusion template expects: actual, predicted."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["actual", "predicted"])
        for actual, row in enumerate(matrix):
            for predicted, count in enumerate(row):
                writer.writerows([[actual, predicted]] * count)


def write_predictions_csv(path: Path, tests: dict, predictions: dict) -> None:
    """Per test sequence: its test set, true sum and predicted sum (a DVC scatter plot)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["test_set", "actual", "predicted"])
        for name, (_, targets) in tests.items():
            for actual, predicted in zip(targets.reshape(-1), predictions[name].reshape(-1), strict=True):
                writer.writerow([name, f"{actual:g}", f"{predicted:.4f}"])


def write_plot(task: Task, metrics: dict, tests: dict, predictions: dict, data: Path, picture: Path, title: str):
    """The plot as data (.csv, for `dvc plots`) and as a picture; MNIST's confusion matrix moves out
    of `metrics` into it."""
    with replaced_file(data) as data_file, replaced_file(picture) as picture_file:
        if task == "mnist":
            matrix = metrics["test"].pop("confusion_matrix")
            write_confusion_csv(data_file, matrix)
            save_confusion_png(picture_file, matrix, title=title)
        else:
            write_predictions_csv(data_file, tests, predictions)
            save_sum_predictions_png(picture_file, tests, predictions, title=title)
