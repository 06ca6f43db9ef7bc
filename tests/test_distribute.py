"""train.distribute: mirrored, for real, on a machine without GPUs: the stage's process splits its
CPU into two logical devices before TensorFlow starts, as Keras' own tests do, and trains under
tf.distribute.MirroredStrategy with two replicas. On the CI profile, with the same global batch,
the models' test metrics agree with single-device training."""

import json
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from rnncompare.config.params import load_params
from rnncompare.data.mnist import fetch_mnist
from rnncompare.data.sums import generate
from rnncompare.evaluation.metrics import evaluate
from rnncompare.training.inputs import load_tests
from tests.conftest import MNIST_MINI, REPO_ROOT, default_params, inherited_environment, run_module, write_profile
from tests.test_pipeline import read_mnist_from

pytestmark = pytest.mark.slow
TWO_CPU_DEVICES = """
import runpy, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.argv = ["stages.train", *sys.argv[1:]]
runpy.run_module("stages.train", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def ci_profile(tmp_path_factory, mnist_like) -> Path:
    """params.yaml with the CI profile, MNIST from the tests' own mirror, and both datasets built."""
    folder = tmp_path_factory.mktemp("distribute")
    params = default_params(folder)
    write_profile(params)
    if (MNIST_MINI / "SHA256SUMS").is_file():  # CI's own data, the official t10k files split in two
        params.write_text(re.sub(r"(?m)^  sources: .*$", f"  sources: ['{MNIST_MINI}']", params.read_text()))
    else:  # the tests' own digits: so easy that both reach 100%, and only the sum's MAE tells apart
        read_mnist_from(params, mnist_like)
    settings = load_params(params)
    generate(settings.sum, folder / "data" / "sum")
    fetch_mnist(settings.mnist, folder / "data" / "mnist")
    mirrored = folder / "mirrored.yaml"
    mirrored.write_text(params.read_text().replace("  distribute: none", "  distribute: mirrored", 1))
    assert load_params(mirrored).train.distribute == "mirrored"
    return folder


def train(folder: Path, task: str, params: str, name: str, two_devices: bool) -> dict:
    arguments = ["--task", task, "--variant", "gru", "--params", params, "--data", f"data/{task}",
                 "--model", f"{name}.keras", "--summary", f"{name}.json",
                 "--history", f"{name}.csv", "--history-png", f"{name}.png"]  # fmt: skip
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}
    if two_devices:
        command = [sys.executable, "-c", TWO_CPU_DEVICES, *arguments]
        result = run_command(command, folder, env)
    else:
        result = run_module("stages.train", *arguments, cwd=folder, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((folder / f"{name}.json").read_text())
    tests = load_tests(task, folder / "data" / task)
    metrics, _ = evaluate(keras.saving.load_model(folder / f"{name}.keras"), task, tests)
    return {"summary": summary, "metrics": metrics, "log": result.stderr}


def run_command(command, folder, env):
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=900,
        env={**inherited_environment(), "PYTHONPATH": str(REPO_ROOT), **env},
    )  # fmt: skip


@pytest.mark.parametrize("task, metric, tolerance", [("mnist", "accuracy", 0.01), ("sum", "mae", 0.01)])
def test_mirrored_training_on_two_cpu_devices_matches_one_device(ci_profile, task, metric, tolerance):
    single = train(ci_profile, task, "params.yaml", f"{task}-single", two_devices=False)
    mirrored = train(ci_profile, task, "mirrored.yaml", f"{task}-mirrored", two_devices=True)
    assert single["summary"]["replicas"] == 1
    assert mirrored["summary"]["replicas"] == 2  # num_replicas_in_sync
    assert "2 replicas (tf.distribute.MirroredStrategy)" in mirrored["log"]
    difference = abs(mirrored["metrics"]["test"][metric] - single["metrics"]["test"][metric])
    assert difference <= tolerance, (single["metrics"]["test"][metric], mirrored["metrics"]["test"][metric])
