"""Adding a variant touches one place: a config-only variant is a `models:` section; a new cell is
one module in rnncompare/models/cells, found by validation, the builder and every loader."""

import dataclasses
import json
import logging
import shutil
import subprocess
import sys
import textwrap

import pytest

from rnncompare.config.params import cell_names, load_params
from tests.conftest import REPO_ROOT, default_params, default_params_text, model_params, run_module
from tests.test_tracking import tiny_params_file

MINIMAL_CELL = textwrap.dedent('''
    """A throw-away cell for the test: h' = tanh(x W + h U)."""
    from keras import layers, ops

    from rnncompare.models.registry import register_cell


    @register_cell
    class MinimalCell(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = [units]
            self.output_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

        def call(self, inputs, states):
            hidden = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel))
            return hidden, [hidden]

        def get_config(self):
            return {**super().get_config(), "units": self.units}
''')
FRESH_PROCESS = """
import sys, mlflow, numpy as np
model = mlflow.pyfunc.load_model(sys.argv[1])
print(np.asarray(model.predict(np.ones((2, 5, 1), np.float32))).shape)
print(sys.modules["rnncompare.models.cells.minimal"].__file__)
"""


def test_the_registry_lists_keras_cells_and_every_module_of_ours_without_importing_keras():
    assert cell_names()[:3] == ("simple", "lstm", "gru") and "lnlstm" in cell_names()
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from rnncompare.config.params import load_params; load_params(); "
         "print('keras' in sys.modules)"],
        cwd=REPO_ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""},
    )  # fmt: skip
    assert result.stdout.strip() == "False", result.stderr


def test_an_unknown_cell_is_refused_naming_every_known_one(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(default_params_text().replace("cell: gru", "cell: peephole"))
    with pytest.raises(Exception, match=r"models\.gru\.cell = 'peephole' is invalid; expected one of 'simple', "):
        load_params(params)


def test_a_new_cell_is_one_module_that_trains_logs_and_loads_in_a_fresh_process(tmp_path, tiny_data):
    copy = tmp_path / "repo"
    for package in ("rnncompare", "stages"):
        shutil.copytree(REPO_ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "rnncompare" / "models" / "cells" / "minimal.py").write_text(MINIMAL_CELL)
    params = tiny_params_file(copy / "params.yaml")
    params.write_text(
        params.read_text().replace(
            "models:\n", "models:\n  mini: {cell: minimal, units: 4, layers: 1, bidirectional: false}\n"
        )
    )
    env = {"PYTHONPATH": str(copy), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    train = run_module(
        "stages.train", "--task", "sum", "--variant", "mini", "--data", str(tiny_data / "sum"),
        "--model", "m.keras", "--summary", "m.json", "--history", "h.csv", "--history-png", "h.png",
        cwd=copy, env=env,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-3000:]
    summary = json.loads((copy / "m.json").read_text())
    assert summary["parameters"] == 1 * 4 + 4 + 4 * 4 + 4 * 4 + 4 + 1  # projection, cell kernels, head
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, f"runs:/{summary['mlflow_run_id']}/model"],
        cwd=elsewhere, capture_output=True, text=True, env={**env, "PYTHONPATH": ""}, timeout=300,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    shape, module = loaded.stdout.splitlines()[-2:]
    assert shape == "(2, 1)" and module.endswith("/code/rnncompare/models/cells/minimal.py")  # carried by the model


def test_a_task_level_override_is_said_in_the_log_and_recorded_as_built(caplog, tmp_path):
    from rnncompare.training.train import recipe, run_params

    params = load_params(default_params(tmp_path))
    params = dataclasses.replace(params, models={**params.models, "gru3": model_params("gru", units=128, layers=3)})
    with caplog.at_level(logging.INFO):
        plan = recipe(params, "sum", "gru3", None)
    assert plan.model.layers == params.train.sum.layers == 1
    assert "train.sum.layers = 1 overrides models.gru3.layers = 3" in caplog.text
    used = run_params(params, plan, "sum", "gru3", None)
    assert used["models.gru3.layers"] == 3 and used["model.layers"] == 1
