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

from rnncompare.config.params import MnistParams, ModelParams, Params, TrainingParams, load_params

REPO_ROOT = Path(__file__).resolve().parents[1]
MNIST_MINI = REPO_ROOT.parent / "shared" / "data" / "mnist-mini"
MNIST_LIKE_T10K = 3000  # images in the t10k files of the tests' MNIST-shaped mirror


@functools.cache
def default_params_text() -> str:
    """params.yaml as the tests specify it: the working file (profiles never write it)."""
    return (REPO_ROOT / "params.yaml").read_text()


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


# Every cell kind in its smallest useful size, named as the variants in params.yaml.
VARIANTS = {
    "rnn": ModelParams(cell="simple", units=8),
    "lstm": ModelParams(cell="lstm", units=8, forget_bias=0.8),
    "gru": ModelParams(cell="gru", units=8),
    "lnlstm": ModelParams(cell="lnlstm", units=8),
    "bilstm": ModelParams(cell="lstm", units=8, bidirectional=True),
    "bigru": ModelParams(cell="gru", units=8, bidirectional=True, layers=2),
}
TINY_TRAINING = TrainingParams(epochs=2, batch_size=8, learning_rate=0.01, patience=2)


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
    from rnncompare.config.params import SumParams
    from rnncompare.data.mnist import fetch_mnist
    from rnncompare.data.sums import generate

    data = tmp_path_factory.mktemp("data")
    generate(SumParams(train_size=256, validation_size=64, test_size=64, length=6), data / "sum")
    fetch_mnist(MnistParams(sources=(str(mnist_like),), allow_non_canonical=True), data / "mnist")
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
