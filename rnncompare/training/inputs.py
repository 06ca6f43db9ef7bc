"""A task's splits, read from the data stages' outputs as the arrays the models take."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnncompare.config.params import Task, TrainingParams
from rnncompare.core.errors import PipelineError
from rnncompare.core.outputs import load_arrays

Split = tuple[np.ndarray, np.ndarray]  # (inputs, targets)


@dataclass(frozen=True)
class TaskData:
    train: Split
    validation: Split
    tests: dict[str, Split]  # the test set, and for `sum` one per length of the sweep
    padding: float | None = None  # sum trained on mixed lengths: the input after a shorter sequence's end


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


def _sum_info(data_dir: Path) -> dict:
    path = data_dir / "info.json"
    if not path.is_file():
        raise PipelineError(f"{path} not found; build the data first with `dvc repro` (or `make repro`).")
    return json.loads(path.read_text())


def lengths_of_tests(task: Task, data_dir: Path) -> dict[str, int]:
    """Test set name -> sequence length (MNIST: 28 rows)."""
    if task == "mnist":
        return {"test": 28}
    splits = _sum_info(Path(data_dir))["splits"]
    return {name: split["length"] for name, split in splits.items() if name.startswith("test")}


def load_tests(task: Task, data_dir: Path) -> dict[str, Split]:
    """The test set, and for `sum` one per length of the sweep (shortest first)."""
    if task == "sum":
        lengths = lengths_of_tests(task, data_dir)
        names = sorted(lengths, key=lengths.__getitem__)
        return {name: _sum_split(Path(data_dir) / f"{name}.npz") for name in names}
    return {"test": _mnist_split(Path(data_dir) / "test.npz")}


def load_task(task: Task, data_dir: Path, training: TrainingParams, split_seed: int) -> TaskData:
    """Read a task's splits. MNIST's validation set is a share of its training images, drawn with
    `split_seed` (train.split_seed), so that the training seed leaves the data as they are."""
    data_dir = Path(data_dir)
    padding = None
    if task == "sum":
        train = _sum_split(data_dir / "train.npz")
        validation = _sum_split(data_dir / "validation.npz")
        padding = _sum_info(data_dir).get("padding")
    else:
        images, labels = _mnist_split(data_dir / "train.npz")
        order = np.random.default_rng(split_seed).permutation(len(labels))  # mnist-mini is sorted by class
        held_out = int(round(len(labels) * training.validation_fraction))
        validation = images[order[:held_out]], labels[order[:held_out]]
        train = images[order[held_out:]], labels[order[held_out:]]
    if training.train_size is not None:
        train = train[0][: training.train_size], train[1][: training.train_size]
    return TaskData(train=train, validation=validation, tests=load_tests(task, data_dir), padding=padding)
