"""A training's picture, readable without DVC: loss and metric per epoch, drawn with matplotlib's
file-only backend."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to files
import matplotlib.pyplot as plt  # noqa: E402


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
