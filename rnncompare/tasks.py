"""Load a task's splits from the data stages' outputs, as arrays the models take."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnncompare.config import Task, TrainingParams
from rnncompare.errors import PipelineError
from rnncompare.outputs import load_arrays

Split = tuple[np.ndarray, np.ndarray]  # (inputs, targets)


@dataclass(frozen=True)
class TaskData:
    train: Split
    validation: Split
    tests: dict[str, Split]  # the test set, and for `sum` the longer-sequence sets too


def _read(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise PipelineError(f"{path} not found; build the data first with `dvc repro` (or `make repro`).")
    return load_arrays(path)


def _sum_split(path: Path) -> Split:
    """Bits float32[n, length, 1], sums float32[n, 1]."""
    arrays = _read(path)
    return arrays["bits"], arrays["sums"][:, np.newaxis]


def _mnist_split(path: Path) -> Split:
    """Rows float32[n, 28, 28] scaled to 0..1, labels int32[n]."""
    arrays = _read(path)
    return arrays["images"].astype(np.float32) / 255.0, arrays["labels"].astype(np.int32)


def load_tests(task: Task, data_dir: Path) -> dict[str, Split]:
    """The test set, and for `sum` the longer-sequence test sets too."""
    if task == "sum":
        return {path.stem: _sum_split(path) for path in sorted(Path(data_dir).glob("test*.npz"))}
    return {"test": _mnist_split(Path(data_dir) / "test.npz")}


def load_task(task: Task, data_dir: Path, training: TrainingParams, seed: int) -> TaskData:
    """Read a task's splits; MNIST's validation set is a seeded share of its training images."""
    data_dir = Path(data_dir)
    if task == "sum":
        train = _sum_split(data_dir / "train.npz")
        validation = _sum_split(data_dir / "validation.npz")
    else:
        images, labels = _mnist_split(data_dir / "train.npz")
        order = np.random.default_rng(seed).permutation(len(labels))  # mnist-mini is sorted by class
        held_out = int(round(len(labels) * training.validation_fraction))
        validation = images[order[:held_out]], labels[order[:held_out]]
        train = images[order[held_out:]], labels[order[held_out:]]
    if training.train_size is not None:
        train = train[0][: training.train_size], train[1][: training.train_size]
    return TaskData(train=train, validation=validation, tests=load_tests(task, data_dir))
