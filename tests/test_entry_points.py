"""Entry points: stages that use Keras print no progress bars; the others never pay for importing it."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, default_params_text


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_checking_params_and_a_profile_loads_neither_keras_nor_tensorflow(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(default_params_text())
    result = run_python(
        "import sys\n"
        "from rnncompare.experiments import profiles\n"
        "from rnncompare.commands import main\n"
        f"main(['params', 'check', {str(params)!r}])\n"
        "profile = profiles.load('ci')\n"
        f"settings = profiles.set_params(profiles.overrides(profile, profiles.read_params({str(params)!r})))\n"
        f"profiles.validated({str(params)!r}, settings, 'profile ci')\n"
        "print(sorted({'keras', 'tensorflow'} & set(sys.modules)))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_stage_using_keras_prints_no_progress_bars():
    result = run_python(
        "import keras, numpy as np\n"
        "from rnncompare.core.errors import run_stage\n"
        "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
        "run_stage(lambda: print('predicted', model.predict(np.zeros((4, 2))).shape))\n"
    )
    assert result.returncode == 0, result.stderr
    assert "predicted (4, 1)" in result.stdout
    assert "step" not in result.stdout + result.stderr


def test_stages_that_load_no_model_import_neither_keras_nor_tensorflow():
    # Importing them costs about 3 s of every such stage's start (bench/README.md, stage fixed cost).
    modules = ("stages.generate_sum", "stages.fetch_mnist", "stages.register", "stages.report",
               "rnncompare.commands.check")  # fmt: skip
    result = run_python(
        f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({'keras', 'tensorflow'} & set(sys.modules)))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_install_puts_the_readmes_rnncompare_command_beside_python():
    # The README runs `rnncompare predict ...` after `source .venv/bin/activate`.
    command = Path(sys.executable).parent / "rnncompare"
    assert command.is_file(), f"{command} missing: pyproject.toml's [project.scripts] names it"
    result = subprocess.run([str(command), "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "predict" in result.stdout
