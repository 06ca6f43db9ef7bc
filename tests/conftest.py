"""Shared fixtures: MNIST-shaped mirrors (written here, or the real offline one when present), real
HTTP mirrors on 127.0.0.1, and a CI-sized config."""

import dataclasses
import functools
import gzip
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from rnncompare.config.params import (
    MnistParams,
    ModelParams,
    Params,
    SumParams,
    TrainingParams,
    TrainParams,
    load_params,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
MNIST_MINI = REPO_ROOT.parent / "shared" / "data" / "mnist-mini"
MNIST_LIKE_T10K = 3000  # images in the t10k files of the tests' MNIST-shaped mirror


@functools.cache
def default_params_text() -> str:
    """params.yaml as the tests specify it: the working file (profiles never write it)."""
    return (REPO_ROOT / "params.yaml").read_text()


DELETE = object()  # with edited_params: remove the key


def edited_params(path: Path, edits: dict) -> Path:
    """The committed params.yaml written to `path` with `edits`: dotted key (or a tuple of its parts)
    -> value, or DELETE."""
    import yaml

    document = yaml.safe_load(default_params_text())
    for key, value in edits.items():
        *parents, leaf = key if isinstance(key, tuple) else key.split(".")
        node = document
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(yaml.safe_dump(document, sort_keys=False))
    return Path(path)


def write_profile(params: Path, profile: Path = REPO_ROOT / "profiles" / "ci.yaml") -> Path:
    """A profile's values written into a copy of params.yaml, by DVC's own code, as `dvc exp run
    --set-param` writes them into the temporary copy a profile runs in."""
    from dvc.utils.hydra import apply_overrides

    from rnncompare.experiments import profiles

    found = profiles.load(Path(profile).stem, Path(profile).parent)
    apply_overrides(params, profiles.set_params(profiles.overrides(found, profiles.read_params(params))))
    return params


def default_params(folder: Path) -> Path:
    """A copy of the default params.yaml in `folder`."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = Path(folder) / "params.yaml"
    path.write_text(default_params_text())
    return path


def model_params(cell: str, units: int = 8, layers: int = 1, bidirectional: bool = False, **more) -> ModelParams:
    return ModelParams(cell=cell, units=units, layers=layers, bidirectional=bidirectional, **more)


# Every cell kind in its smallest useful size, named as the variants in params.yaml.
VARIANTS = {
    "rnn": model_params("simple"),
    "lstm": model_params("lstm", forget_bias=0.8),
    "gru": model_params("gru"),
    "lnlstm": model_params("lnlstm", forget_bias=1.0),
    "bilstm": model_params("lstm", bidirectional=True, forget_bias=1.0),
    "bigru": model_params("gru", bidirectional=True, layers=2),
}
# The tests' own training: two epochs of small batches, nothing else switched on.
TINY_TRAINING = TrainingParams(
    epochs=2, layers=None, steps=None, batch_size=8, optimizer="adam", learning_rate=0.01, clip_norm=None,
    patience=2, cosine_decay=False, reduce_lr_patience=None, dropout=0.0, augment_shift=0.0, augment_rotation=0.0,
    validation_fraction=0.1, train_size=None,
)  # fmt: skip
TINY_SETTINGS = TrainParams(
    seed=0, split_seed=0, deterministic=True, distribute="none", sum=TINY_TRAINING, mnist=TINY_TRAINING
)


def sum_params(**changes) -> SumParams:
    """The sum task's data at the tests' own size: 6 bits, a few sequences."""
    base = SumParams(
        seed=0, length=6, train_size=256, validation_size=64, test_size=64, test_lengths=(5, 10, 20, 50, 100),
        train_lengths=None, train_balanced_fraction=0.0,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def mnist_params(*sources, allow_non_canonical=True, files="all", timeout_seconds=10.0) -> MnistParams:
    return MnistParams(
        sources=tuple(str(source) for source in sources),
        allow_non_canonical=allow_non_canonical,
        files=files,
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture(scope="session")
def mnist_mini() -> Path:
    """The real MNIST subset laid out as a mirror beside the repository, which only this checkout has:
    a test that needs real MNIST is skipped without it."""
    if not (MNIST_MINI / "SHA256SUMS").is_file():
        pytest.skip(f"needs real MNIST from the offline mirror {MNIST_MINI}, which only the project's machines have")
    return MNIST_MINI


def write_idx(path: Path, array: np.ndarray) -> None:
    """A gzipped IDX file of unsigned bytes, MNIST's format."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(size.to_bytes(4, "big") for size in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0))


def mnist_like_split(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable 28x28 digits: label k is a bright bar on row 3 + 2k, shifted a row at most, over noise."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 10)  # every digit equally often, in no pattern
    images = rng.integers(0, 60, size=(count, 28, 28))
    rows = 3 + 2 * labels + rng.integers(-1, 2, size=count)
    images[np.arange(count), rows, 4:24] = 255
    return images.astype(np.uint8), labels.astype(np.uint8)


def write_mnist_like_mirror(directory: Path, train_count: int = 600, test_count: int = MNIST_LIKE_T10K) -> Path:
    """A mirror in MNIST's layout (its four files and a SHA256SUMS declaring them), not canonical MNIST."""
    directory.mkdir(parents=True, exist_ok=True)
    for prefix, count, seed in (("train", train_count, 1), ("t10k", test_count, 2)):
        images, labels = mnist_like_split(count, seed)
        write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", labels)
    write_checksums(directory)
    return directory


@pytest.fixture(scope="session")
def mnist_like(tmp_path_factory) -> Path:
    """A small MNIST-shaped mirror written by the tests: needs nothing outside the repository."""
    return write_mnist_like_mirror(tmp_path_factory.mktemp("mnist-like"))


@pytest.fixture
def mirror_copy(tmp_path, mnist_like) -> Path:
    """A writable copy of the MNIST-shaped mirror that a test may damage."""
    return Path(shutil.copytree(mnist_like, tmp_path / "mirror"))


def write_checksums(mirror: Path) -> None:
    """Declare the mirror's current files in its SHA256SUMS, as a mirror of its own data would."""
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in sorted(mirror.glob("*.gz"))]
    (mirror / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def corrupt(path: Path) -> str:
    """Flip one byte in the middle of a file; return the damaged file's SHA-256."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return hashlib.sha256(data).hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _TruncatingHandler(_QuietHandler):
    """Announces the whole file, sends half of it, then drops the connection."""

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data[: len(data) // 2])
        outputfile.flush()
        self.close_connection = True


@pytest.fixture
def serve():
    """Start a real HTTP server on 127.0.0.1 for a directory; returns its base URL."""
    servers = []

    def start(directory: Path, drop_mid_file: bool = False) -> str:
        handler_class = _TruncatingHandler if drop_mid_file else _QuietHandler
        handler = functools.partial(handler_class, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def inherited_environment() -> dict:
    """This process's environment for a subprocess, less MLFLOW_TRACKING_URI: `mlflow.set_tracking_uri`
    in an earlier test of this process sets it, and a stage would then record into that test's store."""
    return {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}


def run_module(
    module: str, *arguments: str, cwd: Path = REPO_ROOT, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m module` as a stage runs under DVC, capturing its output."""
    environment = {**inherited_environment(), "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory, mnist_like) -> Path:
    """Both datasets, built by the real data stages at CI size: data/sum and data/mnist."""
    from rnncompare.data.mnist import fetch_mnist
    from rnncompare.data.sums import generate

    data = tmp_path_factory.mktemp("data")
    generate(sum_params(), data / "sum")
    fetch_mnist(mnist_params(mnist_like), data / "mnist")
    return data


@pytest.fixture
def tiny_params(tmp_path_factory) -> Params:
    """The committed params.yaml, shrunk so that every model trains in seconds."""
    params = load_params(default_params(tmp_path_factory.mktemp("params")))
    small = dataclasses.replace(TINY_TRAINING, train_size=512)
    models = {name: dataclasses.replace(model, units=8, layers=1) for name, model in params.models.items()}
    return dataclasses.replace(params, models=models, train=dataclasses.replace(params.train, sum=small, mnist=small))


# The files that take minutes run first: pytest-xdist hands files to workers in collection order,
# and a long file started last keeps one worker busy after the other has finished.
SLOWEST_FIRST = ("test_experiments.py", "test_compare.py", "test_team.py", "test_remotes.py", "test_pipeline.py")


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its order
