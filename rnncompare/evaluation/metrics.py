"""Test-set metrics of a trained model, named plainly (`test.accuracy`, `test_50bits.within_0.05`)."""

from pathlib import Path

import keras
import numpy as np

from rnncompare.config.metrics import NUM_CLASSES, SUM_TOLERANCE
from rnncompare.config.params import Task
from rnncompare.core.errors import PipelineError
from rnncompare.training.inputs import Split


def sum_metrics(predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """predictions, targets: float[n, 1]."""
    error = predictions.reshape(-1) - targets.reshape(-1)
    return {
        "mse": float(np.mean(error**2)),
        "mae": float(np.mean(np.abs(error))),
        f"within_{SUM_TOLERANCE}": float(np.mean(np.abs(error) < SUM_TOLERANCE)),
        "rounded_accuracy": float(np.mean(np.round(predictions.reshape(-1)) == targets.reshape(-1))),
    }


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """int[true class, predicted class] counts."""
    return np.bincount(labels * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


def mnist_metrics(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """probabilities: float[n, 10]; labels: int[n]."""
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted)
    chosen = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "loss": float(-np.mean(np.log(chosen))),
        "per_class_accuracy": {
            str(digit): float(matrix[digit, digit] / max(matrix[digit].sum(), 1)) for digit in range(NUM_CLASSES)
        },
        "confusion_matrix": matrix.tolist(),
    }


def evaluate(
    model: keras.Model, task: Task, tests: dict[str, Split], batch_size: int = 512
) -> tuple[dict, dict[str, np.ndarray]]:
    """({test set: {metric: value}}, {test set: model outputs}) for every test set of the task."""
    results, outputs = {}, {}
    for name, (inputs, targets) in tests.items():
        outputs[name] = model.predict(inputs, batch_size=batch_size, verbose=0)
        results[name] = sum_metrics(outputs[name], targets) if task == "sum" else mnist_metrics(outputs[name], targets)
    return results, outputs


def load_model(path: Path) -> keras.Model:
    if not Path(path).is_file():
        raise PipelineError(f"{path} not found; train it first with `dvc repro` (or `make repro`).")
    import rnncompare.models.cells  # noqa: F401  registers the custom layers for safe-mode loading

    return keras.saving.load_model(path, safe_mode=True)
