"""A model that an earlier version logged and registered still loads and predicts what it predicted
then: with `predict`, with `mlflow.pyfunc` in this process, and in a fresh process outside the
repository. The fixture is a real MLflow model: sum-lnlstm (our own cell) of `make repro
PROFILE=ci` at commit b780136, whose MLmodel names `rnncompare.serving` as its loader and which
carries that version's whole package."""

import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT, run_module

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "sum-lnlstm-logged-at-b780136.tar.gz"
BITS = "0110100111"
PREDICTED_THEN = 6.406691551208496  # what b780136's code predicted for BITS, on the machine that logged it


@pytest.fixture(scope="module")
def old_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("logged-before") / "model"
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(folder, filter="data")
    assert "loader_module: rnncompare.serving" in (folder / "MLmodel").read_text()
    assert (folder / "code" / "rnncompare" / "cells" / "lnlstm.py").is_file()  # the old layout
    return folder


def bits(text: str) -> np.ndarray:
    return np.array([[[float(bit)] for bit in text]], np.float32)


def test_a_model_logged_before_the_subpackages_loads_here_and_predicts_as_then(old_model):
    import mlflow

    import rnncompare  # noqa: F401  as predict and a notebook have it

    predicted = float(np.asarray(mlflow.pyfunc.load_model(str(old_model)).predict(bits(BITS))).reshape(-1)[0])
    assert predicted == pytest.approx(PREDICTED_THEN, rel=1e-5)


def test_it_loads_in_a_fresh_process_outside_the_repository_from_the_code_it_carries(old_model, tmp_path):
    script = (
        "import sys, mlflow, numpy as np\n"
        f"model = mlflow.pyfunc.load_model({str(old_model)!r})\n"
        f"print(float(np.asarray(model.predict(np.array([[[float(b)] for b in {BITS!r}]], np.float32)))[0, 0]))\n"
        "print(sys.modules['rnncompare'].__file__)\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    value, module = loaded.stdout.split()[-2:]
    assert float(value) == pytest.approx(PREDICTED_THEN, rel=1e-5) and module.startswith(str(old_model / "code"))


def test_predict_uses_it_as_the_registered_champion(old_model, tmp_path):
    from mlflow import MlflowClient

    store = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    client.create_registered_model("rnncompare-sum")
    version = client.create_model_version("rnncompare-sum", source=str(old_model))
    client.set_registered_model_alias("rnncompare-sum", "champion", version.version)
    result = run_module(
        "rnncompare", "predict", "--champion", "sum", "--bits", BITS, "--params", str(REPO_ROOT / "params.yaml"),
        cwd=tmp_path, env={"MLFLOW_TRACKING_URI": store},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"{BITS}: sum {PREDICTED_THEN:.3f} (rounded 6; true 6)"
