"""Stage fetch_mnist: fetch, verify and parse MNIST, and write arrays that training loads fast."""

import argparse
import logging
import tempfile
from pathlib import Path

import numpy as np

from rnncompare.config import MnistParams, load_params
from rnncompare.errors import run_stage
from rnncompare.idx import NUM_CLASSES, read_split
from rnncompare.mirrors import fetch_all
from rnncompare.outputs import replaced_directory, save_arrays, write_json

log = logging.getLogger(__name__)
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def fetch_mnist(params: MnistParams, output: Path) -> dict:
    """Write train.npz and test.npz (images uint8[n, 28, 28], labels uint8[n]) and info.json."""
    with tempfile.TemporaryDirectory(prefix="mnist-download-") as download_dir:
        fetched = fetch_all(params.sources, Path(download_dir), params.allow_non_canonical, params.timeout_seconds)
        info = {
            "files": {
                name: {"sha256": item.sha256, "source": item.source, "canonical": item.canonical}
                for name, item in fetched.items()
            }
        }
        with replaced_directory(output) as staging:
            for split, (images_name, labels_name) in SPLIT_FILES.items():
                origin = fetched[images_name].source
                images, labels = read_split(fetched[images_name].path, fetched[labels_name].path, origin)
                save_arrays(staging / f"{split}.npz", images=images, labels=labels)
                histogram = np.bincount(labels, minlength=NUM_CLASSES).tolist()
                info[split] = {"count": len(labels), "label_counts": histogram}
                log.info("%s: %d images, label counts %s", split, len(labels), histogram)
            write_json(staging / "info.json", info)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, required=True, help="directory to (re)write")
    arguments = parser.parse_args()
    fetch_mnist(load_params(arguments.params).mnist, arguments.out)


if __name__ == "__main__":
    run_stage(main)
