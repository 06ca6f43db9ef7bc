"""MNIST as the fetch_mnist stage writes it: fetched, verified, parsed, and saved as arrays that
training loads fast."""

import logging
import tempfile
from pathlib import Path

import numpy as np

from rnncompare.config.params import MnistParams
from rnncompare.core.outputs import replaced_directory, save_arrays, write_json
from rnncompare.data.idx import NUM_CLASSES, read_split
from rnncompare.data.mirrors import fetch_all

log = logging.getLogger(__name__)
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
# files: t10k-split. The official test set is the only part of MNIST that every mirror, including the
# offline one, holds byte for byte. Its first 5,000 images are cleaner than its last 5,000 (as
# MNIST's page says), so an interleaved split keeps both halves alike. The rule is fixed: it is CI's data.
T10K_SPLIT_RULE = "images at even positions of t10k-* (0, 2, ...) train, odd positions test"


def read_splits(params: MnistParams, fetched: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The training and test splits (images, labels), as params.files says to make them."""

    def read(images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
        return read_split(fetched[images_name].path, fetched[labels_name].path, fetched[images_name].source)

    if params.files == "all":
        return {"train": read(*TRAIN_FILES), "test": read(*TEST_FILES)}
    images, labels = read(*TEST_FILES)
    return {"train": (images[0::2], labels[0::2]), "test": (images[1::2], labels[1::2])}


def fetch_mnist(params: MnistParams, output: Path) -> dict:
    """Write train.npz and test.npz (images uint8[n, 28, 28], labels uint8[n]) and info.json."""
    names = TEST_FILES if params.files == "t10k-split" else TRAIN_FILES + TEST_FILES
    with tempfile.TemporaryDirectory(prefix="mnist-download-") as download_dir:
        fetched = fetch_all(
            params.sources, Path(download_dir), params.allow_non_canonical, params.timeout_seconds, names
        )
        info = {
            "files": {
                name: {"sha256": item.sha256, "source": item.source, "canonical": item.canonical}
                for name, item in fetched.items()
            },
            "split": T10K_SPLIT_RULE if params.files == "t10k-split" else "the official training and test files",
        }
        with replaced_directory(output) as staging:
            for split, (images, labels) in read_splits(params, fetched).items():
                save_arrays(staging / f"{split}.npz", images=images, labels=labels)
                histogram = np.bincount(labels, minlength=NUM_CLASSES).tolist()
                info[split] = {"count": len(labels), "label_counts": histogram}
                log.info("%s: %d images, label counts %s", split, len(labels), histogram)
            write_json(staging / "info.json", info)
    return info
