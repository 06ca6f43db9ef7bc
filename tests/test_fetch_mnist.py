"""fetch_mnist: sources tried in order, every file verified by SHA-256, bad data never lands in data/."""

import gzip
import json

import numpy as np
import pytest

from rnncompare.config import MnistParams
from rnncompare.errors import PipelineError
from rnncompare.mirrors import CANONICAL_SHA256
from rnncompare.outputs import load_arrays
from stages.fetch_mnist import fetch_mnist
from tests.conftest import corrupt, run_module, write_checksums

MNIST_MINI_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def mini_params(*sources, allow_non_canonical=True) -> MnistParams:
    return MnistParams(
        sources=tuple(str(s) for s in sources), allow_non_canonical=allow_non_canonical, timeout_seconds=10
    )


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


def test_fetches_over_http_from_a_real_server(tmp_path, mnist_mini, serve):
    url = serve(mnist_mini)
    info = fetch_mnist(mini_params(url), tmp_path / "mnist")
    assert {entry["source"] for entry in info["files"].values()} == {url}
    assert info["test"]["label_counts"] == MNIST_MINI_TEST_LABEL_COUNTS


def test_file_url_source_is_accepted(tmp_path, mnist_mini):
    info = fetch_mnist(mini_params(mnist_mini.as_uri()), tmp_path / "mnist")
    assert info["train"]["count"] == 5000


def test_non_canonical_mirror_is_refused_unless_allowed(tmp_path, mnist_mini):
    with pytest.raises(PipelineError, match=r"not canonical MNIST.*allow_non_canonical: true"):
        fetch_mnist(mini_params(mnist_mini, allow_non_canonical=False), tmp_path / "mnist")
    assert not (tmp_path / "mnist").exists()


def test_corrupted_file_names_the_file_both_digests_and_the_source(tmp_path, mirror_copy, serve):
    damaged_digest = corrupt(mirror_copy / "t10k-labels-idx1-ubyte.gz")
    url = serve(mirror_copy)
    with pytest.raises(PipelineError) as raised:
        fetch_mnist(mini_params(url), tmp_path / "mnist")
    message = str(raised.value)
    expected_digest = CANONICAL_SHA256["t10k-labels-idx1-ubyte.gz"]
    assert "checksum mismatch for t10k-labels-idx1-ubyte.gz" in message
    assert expected_digest in message and damaged_digest in message and url in message


def test_connection_dropped_mid_file_falls_through_to_the_next_source(tmp_path, mnist_mini, serve):
    dropping, good = serve(mnist_mini, drop_mid_file=True), serve(mnist_mini)
    info = fetch_mnist(mini_params(dropping, good), tmp_path / "mnist")
    assert {entry["source"] for entry in info["files"].values()} == {good}


def test_dead_source_falls_through_to_the_next(tmp_path, mnist_mini, serve):
    dead = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    info = fetch_mnist(mini_params(dead, tmp_path / "missing-dir", mnist_mini), tmp_path / "mnist")
    assert info["train"]["count"] == 5000


def test_when_every_source_fails_one_error_lists_each_and_why(tmp_path, mnist_mini, serve):
    dropping = serve(mnist_mini, drop_mid_file=True)
    with pytest.raises(PipelineError) as raised:
        fetch_mnist(mini_params("http://127.0.0.1:9/", tmp_path / "nowhere", dropping), tmp_path / "mnist")
    message = str(raised.value)
    assert "from any of the 3 sources in params.yaml mnist.sources" in message
    assert "http://127.0.0.1:9/: unreachable" in message or "http://127.0.0.1:9/: ConnectionError" in message
    assert f"{tmp_path / 'nowhere'}: directory" in message
    assert f"{dropping}: ChunkedEncodingError" in message


def test_truncated_gzip_declared_by_the_mirror_is_refused(tmp_path, mirror_copy):
    images = mirror_copy / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[: images.stat().st_size // 2])
    write_checksums(mirror_copy)
    with pytest.raises(PipelineError, match="train-images-idx3-ubyte.gz from .* is not a complete gzip file"):
        fetch_mnist(mini_params(mirror_copy), tmp_path / "mnist")


def test_offline_failure_points_to_the_offline_profiles(tmp_path):
    with pytest.raises(PipelineError) as raised:
        fetch_mnist(mini_params("http://127.0.0.1:9/"), tmp_path / "mnist")
    assert "No internet on this machine?" in str(raised.value) and "make repro PROFILE=ci" in str(raised.value)


def test_a_relative_directory_source_is_relative_to_the_repository_also_from_an_experiment_copy(
    tmp_path, mnist_mini, monkeypatch
):
    root = tmp_path / "repo"
    copy = root / ".dvc" / "tmp" / "exps" / "tmpabc123"
    copy.mkdir(parents=True)
    (root / "mirror").symlink_to(mnist_mini)
    monkeypatch.chdir(copy)  # where `dvc exp run --queue` runs a stage
    info = fetch_mnist(mini_params("mirror"), tmp_path / "mnist")
    assert info["test"]["count"] == 10000


def test_image_label_count_mismatch_is_refused(tmp_path, mirror_copy):
    labels = mirror_copy / "train-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    labels.write_bytes(gzip.compress(raw[:4] + (4999).to_bytes(4, "big") + raw[8:-1]))
    write_checksums(mirror_copy)
    with pytest.raises(PipelineError, match="holds 5000 images but train-labels-idx1-ubyte.gz holds 4999 labels"):
        fetch_mnist(mini_params(mirror_copy), tmp_path / "mnist")


def test_wrong_magic_is_refused(tmp_path, mirror_copy):
    images = mirror_copy / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + raw[4:]))
    write_checksums(mirror_copy)
    with pytest.raises(PipelineError, match="t10k-images-idx3-ubyte.gz .* magic number 0x00000801"):
        fetch_mnist(mini_params(mirror_copy), tmp_path / "mnist")


def test_stage_exits_non_zero_with_one_line_and_keeps_earlier_good_data(tmp_path, mnist_mini, mirror_copy):
    output = tmp_path / "data" / "mnist"
    good = tmp_path / "good.yaml"
    good.write_text(f"mnist:\n  sources: ['{mnist_mini}']\n  allow_non_canonical: true\n")
    assert run_module("stages.fetch_mnist", "--params", str(good), "--out", str(output)).returncode == 0
    before = snapshot(output)

    corrupt(mirror_copy / "train-images-idx3-ubyte.gz")
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"mnist:\n  sources: ['{mirror_copy}']\n  allow_non_canonical: true\n")
    result = run_module("stages.fetch_mnist", "--params", str(bad), "--out", str(output))

    assert result.returncode == 1
    assert "checksum mismatch for train-images-idx3-ubyte.gz" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(output) == before
    assert sorted(p.name for p in output.parent.iterdir()) == ["mnist"]  # nothing half-written


def test_stage_with_unknown_param_key_exits_non_zero_naming_it(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("mnist:\n  source: [x]\n")
    result = run_module("stages.fetch_mnist", "--params", str(params), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "unknown key 'mnist.source'; valid keys here are: sources, allow_non_canonical" in result.stderr
    assert not (tmp_path / "out").exists()
