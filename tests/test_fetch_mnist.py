"""fetch_mnist: sources tried in order, every file verified by SHA-256, bad data never lands in data/.

Most tests use the MNIST-shaped mirror that the tests write; those about real MNIST use the offline
mirror beside this checkout and are skipped where it is absent.
"""

import gzip
import json
import logging

import numpy as np
import pytest

from rnncompare.config.params import MnistParams
from rnncompare.core.errors import PipelineError
from rnncompare.core.outputs import load_arrays
from rnncompare.data.mirrors import CANONICAL_SHA256
from rnncompare.data.mnist import fetch_mnist
from tests.conftest import (
    MNIST_LIKE_T10K,
    corrupt,
    edited_params,
    mnist_like_split,
    mnist_params,
    run_module,
    write_checksums,
)

MNIST_MINI_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def mini_params(*sources, allow_non_canonical=True, files="all") -> MnistParams:
    return mnist_params(*sources, allow_non_canonical=allow_non_canonical, files=files)


def declared(mirror, name: str) -> str:
    lines = (mirror / "SHA256SUMS").read_text().splitlines()
    return next(line.split()[0] for line in lines if line.endswith(name))


def snapshot(directory):
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_fetches_verifies_and_parses_the_real_mnist_mini_mirror(tmp_path, mnist_mini):
    info = fetch_mnist(mini_params(mnist_mini), tmp_path / "mnist")
    train = load_arrays(tmp_path / "mnist" / "train.npz")
    test = load_arrays(tmp_path / "mnist" / "test.npz")
    assert train["images"].shape == (5000, 28, 28) and train["images"].dtype == np.uint8
    assert test["images"].shape == (10000, 28, 28) and test["labels"].shape == (10000,)
    assert np.bincount(train["labels"]).tolist() == [500] * 10
    assert np.bincount(test["labels"]).tolist() == MNIST_MINI_TEST_LABEL_COUNTS
    assert info["files"]["t10k-images-idx3-ubyte.gz"]["canonical"] is True  # the official test set
    assert info["files"]["train-images-idx3-ubyte.gz"]["canonical"] is False  # a declared subset
    assert json.loads((tmp_path / "mnist" / "info.json").read_text()) == info


def test_the_ci_split_is_canonical_and_the_same_from_the_offline_mirror_and_from_a_server_of_t10k_only(
    tmp_path, mnist_mini, serve
):
    official = tmp_path / "official"  # what the canonical https mirrors serve: here, only the t10k files
    official.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (official / name).write_bytes((mnist_mini / name).read_bytes())
    served = mini_params(tmp_path / "no-shared", serve(official), allow_non_canonical=False, files="t10k-split")
    offline = mini_params(mnist_mini, allow_non_canonical=False, files="t10k-split")
    fetch_mnist(served, tmp_path / "from-server")
    info = fetch_mnist(offline, tmp_path / "from-mirror")
    assert sorted(info["files"]) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert all(entry["canonical"] for entry in info["files"].values())
    assert info["train"]["count"] == info["test"]["count"] == 5000
    for split in ("train.npz", "test.npz"):
        assert (tmp_path / "from-server" / split).read_bytes() == (tmp_path / "from-mirror" / split).read_bytes()


def test_t10k_split_trains_on_even_positions_and_tests_on_odd_ones(tmp_path, mnist_like):
    info = fetch_mnist(mini_params(mnist_like, files="t10k-split"), tmp_path / "mnist")
    images, labels = mnist_like_split(MNIST_LIKE_T10K, seed=2)  # what the mirror's t10k files hold
    train = load_arrays(tmp_path / "mnist" / "train.npz")
    test = load_arrays(tmp_path / "mnist" / "test.npz")
    np.testing.assert_array_equal(train["images"], images[0::2])
    np.testing.assert_array_equal(test["labels"], labels[1::2])
    assert sorted(info["files"]) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert "even positions" in info["split"]


def test_fetches_over_http_from_a_real_server(tmp_path, mnist_like, serve):
    url = serve(mnist_like)
    info = fetch_mnist(mini_params(url), tmp_path / "mnist")
    assert {entry["source"] for entry in info["files"].values()} == {url}
    assert info["train"]["count"] == 600 and info["test"]["label_counts"] == [MNIST_LIKE_T10K // 10] * 10


def test_file_url_source_is_accepted(tmp_path, mnist_like):
    info = fetch_mnist(mini_params(mnist_like.as_uri()), tmp_path / "mnist")
    assert info["train"]["count"] == 600


def test_non_canonical_mirror_is_refused_unless_allowed(tmp_path, mnist_like):
    with pytest.raises(PipelineError, match=r"not canonical MNIST.*allow_non_canonical: true"):
        fetch_mnist(mini_params(mnist_like, allow_non_canonical=False), tmp_path / "mnist")
    assert not (tmp_path / "mnist").exists()


def test_a_mirror_without_checksums_must_serve_canonical_mnist(tmp_path, mirror_copy):
    (mirror_copy / "SHA256SUMS").unlink()
    with pytest.raises(PipelineError) as raised:
        fetch_mnist(mini_params(mirror_copy), tmp_path / "mnist")
    assert f"expected sha256 {CANONICAL_SHA256['train-images-idx3-ubyte.gz']} (canonical)" in str(raised.value)


def test_corrupted_file_names_the_file_both_digests_and_the_source(tmp_path, mirror_copy, serve):
    expected_digest = declared(mirror_copy, "t10k-labels-idx1-ubyte.gz")
    damaged_digest = corrupt(mirror_copy / "t10k-labels-idx1-ubyte.gz")
    url = serve(mirror_copy)
    with pytest.raises(PipelineError) as raised:
        fetch_mnist(mini_params(url), tmp_path / "mnist")
    message = str(raised.value)
    assert "checksum mismatch for t10k-labels-idx1-ubyte.gz" in message
    assert expected_digest in message and damaged_digest in message and url in message


def test_connection_dropped_mid_file_falls_through_to_the_next_source(tmp_path, mnist_like, serve):
    dropping, good = serve(mnist_like, drop_mid_file=True), serve(mnist_like)
    info = fetch_mnist(mini_params(dropping, good), tmp_path / "mnist")
    assert {entry["source"] for entry in info["files"].values()} == {good}


def test_dead_sources_fall_through_to_the_next_each_said_once_in_the_log(tmp_path, mnist_like, caplog):
    dead = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    missing = tmp_path / "missing-dir"
    with caplog.at_level(logging.INFO, logger="rnncompare.data.mirrors"):
        info = fetch_mnist(mini_params(dead, missing, mnist_like), tmp_path / "mnist")
    assert info["train"]["count"] == 600
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        next(w for w in warnings if w.startswith(dead)),
        f"{missing}: directory {missing} does not exist; skipped",
    ]


def test_when_every_source_fails_one_error_lists_each_and_why(tmp_path, mnist_like, serve):
    dropping = serve(mnist_like, drop_mid_file=True)
    with pytest.raises(PipelineError) as raised:
        fetch_mnist(mini_params("http://127.0.0.1:9/", tmp_path / "nowhere", dropping), tmp_path / "mnist")
    message = str(raised.value)
    assert "from any of the 3 sources in params.yaml mnist.sources" in message
    assert "http://127.0.0.1:9/: ConnectionError" in message
    assert f"{tmp_path / 'nowhere'}: directory" in message
    assert f"{dropping}: ChunkedEncodingError" in message


def test_truncated_gzip_declared_by_the_mirror_is_refused(tmp_path, mirror_copy):
    images = mirror_copy / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[: images.stat().st_size // 2])
    write_checksums(mirror_copy)
    with pytest.raises(PipelineError, match="train-images-idx3-ubyte.gz from .* is not a complete gzip file"):
        fetch_mnist(mini_params(mirror_copy), tmp_path / "mnist")


def test_offline_failure_says_how_to_read_mnist_from_a_local_directory(tmp_path):
    with pytest.raises(PipelineError) as raised:
        fetch_mnist(mini_params("http://127.0.0.1:9/"), tmp_path / "mnist")
    assert "No internet on this machine?" in str(raised.value)
    assert "List a local directory that holds the files first in mnist.sources" in str(raised.value)


def test_a_relative_directory_source_is_relative_to_the_repository_also_from_an_experiment_copy(
    tmp_path, mnist_like, monkeypatch
):
    root = tmp_path / "repo"
    copy = root / ".dvc" / "tmp" / "exps" / "tmpabc123"
    copy.mkdir(parents=True)
    (root / "mirror").symlink_to(mnist_like)
    monkeypatch.chdir(copy)  # where `dvc exp run --queue` runs a stage
    info = fetch_mnist(mini_params("mirror"), tmp_path / "mnist")
    assert info["test"]["count"] == MNIST_LIKE_T10K


def test_image_label_count_mismatch_is_refused(tmp_path, mirror_copy):
    labels = mirror_copy / "train-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    labels.write_bytes(gzip.compress(raw[:4] + (599).to_bytes(4, "big") + raw[8:-1]))
    write_checksums(mirror_copy)
    with pytest.raises(PipelineError, match="holds 600 images but train-labels-idx1-ubyte.gz holds 599 labels"):
        fetch_mnist(mini_params(mirror_copy), tmp_path / "mnist")


def test_wrong_magic_is_refused(tmp_path, mirror_copy):
    images = mirror_copy / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + raw[4:]))
    write_checksums(mirror_copy)
    with pytest.raises(PipelineError, match="t10k-images-idx3-ubyte.gz .* magic number 0x00000801"):
        fetch_mnist(mini_params(mirror_copy), tmp_path / "mnist")


def test_stage_exits_non_zero_with_one_line_and_keeps_earlier_good_data(tmp_path, mnist_like, mirror_copy):
    output = tmp_path / "data" / "mnist"
    good = tmp_path / "good.yaml"
    edited_params(good, {"mnist.sources": [str(mnist_like)], "mnist.allow_non_canonical": True})
    assert run_module("stages.fetch_mnist", "--params", str(good), "--out", str(output)).returncode == 0
    before = snapshot(output)

    corrupt(mirror_copy / "train-images-idx3-ubyte.gz")
    bad = tmp_path / "bad.yaml"
    edited_params(bad, {"mnist.sources": [str(mirror_copy)], "mnist.allow_non_canonical": True})
    result = run_module("stages.fetch_mnist", "--params", str(bad), "--out", str(output))

    assert result.returncode == 1
    assert "checksum mismatch for train-images-idx3-ubyte.gz" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(output) == before
    assert sorted(p.name for p in output.parent.iterdir()) == ["mnist"]  # nothing half-written


def test_stage_with_unknown_param_key_exits_non_zero_naming_it(tmp_path):
    params = tmp_path / "params.yaml"
    edited_params(params, {"mnist.source": ["x"]})
    result = run_module("stages.fetch_mnist", "--params", str(params), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "unknown key 'mnist.source'; valid keys here are: sources, allow_non_canonical" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unknown_files_choice_is_named_with_the_choices(tmp_path):
    params = tmp_path / "params.yaml"
    edited_params(params, {"mnist.files": "test"})
    result = run_module("stages.fetch_mnist", "--params", str(params), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "mnist.files = 'test' is invalid; expected one of 'all', 't10k-split'" in result.stderr
