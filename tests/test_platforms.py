"""Installs beyond one platform: the Makefile picks the lock file by `uname`, refuses a platform or a
Python there is no lock for, and every lock pins the same versions. `make ui` prints addresses of
the pipeline's runs that a real `mlflow ui` serves and MLflow's JS app routes."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests
from mlflow.tracking import MlflowClient
from packaging.specifiers import SpecifierSet

from tests.conftest import REPO_ROOT
from tests.test_tracking import free_port, wait_for_health

CPU_LOCKS = {
    ("Linux", "x86_64"): "requirements.lock",
    ("Linux", "aarch64"): "requirements-linux-aarch64.lock",
    ("Darwin", "arm64"): "requirements-macos-arm64.lock",
}
GPU_LOCK = "requirements-gpu.lock"
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def install(tmp_path: Path, *arguments: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    """scripts/install.py for a virtual environment in tmp_path (never the repository's .venv), as
    `make` runs it: with the system's Python."""
    venv = tmp_path / "venv"
    return subprocess.run(
        [python, "scripts/install.py", "--venv", str(venv), *arguments],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def fake_venv(tmp_path: Path, stamp: str) -> None:
    """A virtual environment that names the lock it came from, with this Python in it."""
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "venv" / "installed").write_text(stamp)


def pins(lock: str) -> dict[str, str]:
    """Package to version: a lock's lines that start with a name (the others: hashes and comments)."""
    lines = (REPO_ROOT / lock).read_text().splitlines()
    return dict(re.match(r"([a-z0-9][a-z0-9._-]*)==(\S+)", line).groups() for line in lines if line[:1].isalnum())


@pytest.mark.parametrize(("system", "machine"), list(CPU_LOCKS))
def test_the_environment_comes_from_the_lock_of_the_platform_it_is_made_on(tmp_path, system, machine):
    result = install(tmp_path, "--dry-run", "--system", system, "--machine", machine)
    assert result.returncode == 0, result.stderr
    assert f"--require-hashes --no-deps -r {CPU_LOCKS[system, machine]}" in result.stdout
    assert not (tmp_path / "venv").exists()


def test_gpu_installs_the_cuda_lock_on_linux_x86_64_and_is_refused_elsewhere(tmp_path):
    result = install(tmp_path, "--dry-run", "--gpu", "1", "--system", "Linux", "--machine", "x86_64")
    assert result.returncode == 0, result.stderr
    assert f"-r {GPU_LOCK}" in result.stdout
    result = install(tmp_path, "--gpu", "1", "--system", "Darwin", "--machine", "arm64")
    assert result.returncode == 1
    assert f"GPU=1 needs Linux x86-64 ({GPU_LOCK}); this is Darwin-arm64" in result.stderr
    assert not (tmp_path / "venv").exists()


@pytest.mark.parametrize(("stamp", "arguments", "rebuilt_from"), [
    ("", ["--gpu", "1"], GPU_LOCK),  # an environment made before stamps named their lock: the CPU lock's
    ("requirements.lock\n", ["--gpu", "1"], GPU_LOCK),
    (f"{GPU_LOCK}\n", ["--gpu", "0"], "requirements.lock"),
])  # fmt: skip
def test_switching_between_the_cpu_and_gpu_locks_rebuilds_the_environment_from_scratch(
    tmp_path, stamp, arguments, rebuilt_from
):
    fake_venv(tmp_path, stamp)
    result = install(tmp_path, "--dry-run", *arguments, "--system", "Linux", "--machine", "x86_64")
    assert result.returncode == 0, result.stderr
    assert "-m venv --clear" in result.stdout and f"-r {rebuilt_from}" in result.stdout
    (tmp_path / "venv" / "installed").write_text(f"{rebuilt_from}\n")
    unchanged = install(tmp_path, "--dry-run", *arguments, "--system", "Linux", "--machine", "x86_64")
    assert unchanged.returncode == 0 and "is up to date" in unchanged.stdout


def test_without_gpu_the_environment_keeps_the_build_it_has(tmp_path):
    fake_venv(tmp_path, f"{GPU_LOCK}\n")
    result = install(tmp_path, "--dry-run", "--system", "Linux", "--machine", "x86_64")
    assert result.returncode == 0 and "is up to date" in result.stdout, result.stdout + result.stderr


def test_a_changed_lock_or_pyproject_reinstalls(tmp_path):
    fake_venv(tmp_path, "requirements.lock\n")
    old = (REPO_ROOT / "pyproject.toml").stat().st_mtime - 10
    os.utime(tmp_path / "venv" / "installed", (old, old))  # installed before pyproject.toml last changed
    result = install(tmp_path, "--dry-run", "--system", "Linux", "--machine", "x86_64")
    assert result.returncode == 0 and "-r requirements.lock" in result.stdout and "--clear" not in result.stdout


def test_another_python_rebuilds_an_environment_of_another_version(tmp_path):
    fake_venv(tmp_path, "requirements.lock\n")
    other = tmp_path / "python3.99"  # an interpreter of another version than this one
    other.write_text("#!/bin/sh\necho 3.99\n")
    other.chmod(0o755)
    result = install(tmp_path, "--dry-run", "--python", str(other), "--system", "Linux", "--machine", "x86_64")
    version = "{}.{}".format(*sys.version_info[:2])
    assert f"is Python {version}; rebuilding it with {other}" in result.stdout, result.stdout + result.stderr
    assert "is Python 3.99: the lock files are for Python 3.11 3.12 3.13" in result.stderr
    same = install(tmp_path, "--dry-run", "--python", sys.executable, "--system", "Linux", "--machine", "x86_64")
    assert same.returncode == 0 and "is up to date" in same.stdout, same.stdout + same.stderr


def test_a_platform_without_a_lock_is_told_which_there_are_and_how_to_make_one(tmp_path):
    result = install(tmp_path, "--system", "MINGW64_NT-10.0", "--machine", "x86_64")
    assert result.returncode == 1
    assert "No lock file for MINGW64_NT-10.0-x86_64" in result.stderr
    for (system, machine), lock in CPU_LOCKS.items():
        assert f"{system}-{machine} ({lock})" in result.stderr
    assert "make lock" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_python_the_locks_are_not_for_is_refused_before_the_venv_is_made(tmp_path):
    python = tmp_path / "python3.14"  # `python3.14 -c CODE` runs CODE where sys.version_info says 3.14
    code = "import sys; sys.version_info = (3, 14, 0); exec(sys.argv[1])"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{code}" "$2"\n')
    python.chmod(0o755)
    result = install(tmp_path, "--python", str(python), "--system", "Linux", "--machine", "x86_64")
    assert result.returncode == 1
    assert "is Python 3.14: the lock files are for Python 3.11 3.12 3.13" in result.stderr
    assert not (tmp_path / "venv").exists()


@needs_make
def test_make_passes_gpu_and_python_on_to_the_environment_script():
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "venv", "GPU=1", "PYTHON=python3.12"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "python3.12 scripts/install.py --python python3.12 --gpu 1" in result.stdout, result.stdout + result.stderr
    plain = subprocess.run(
        ["make", "-n", "--no-print-directory", "venv"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert "scripts/install.py" in plain.stdout and "--python" not in plain.stdout and "--gpu" not in plain.stdout


@needs_make
def test_make_help_lists_every_target_with_one_line():
    phony = re.search(r"^\.PHONY: (.+?)(?<!\\)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE | re.DOTALL)
    targets = phony.group(1).replace("\\\n", " ").split()
    listed = subprocess.run(["make", "--no-print-directory", "help"], cwd=REPO_ROOT, capture_output=True, text=True)
    described = {line.split()[1]: line for line in listed.stdout.splitlines() if line.startswith("  make ")}
    assert set(described) == set(targets)
    assert all(len(line.split(None, 2)) == 3 for line in described.values())


def test_the_pythons_locked_for_are_those_pyproject_allows():
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from install import PYTHONS

    allowed = SpecifierSet(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    assert list(PYTHONS) == [f"3.{minor}" for minor in range(6, 20) if f"3.{minor}.0" in allowed]


def test_every_lock_pins_the_same_versions_and_the_declared_dependencies():
    reference = pins("requirements.lock")
    locks = [*CPU_LOCKS.values(), GPU_LOCK]
    for lock in locks:
        assert (REPO_ROOT / lock).read_text().splitlines()[1] == "#    make lock", lock
        found = pins(lock)
        assert {name: version for name, version in found.items() if reference.get(name, version) != version} == {}, lock
    # Each CPU lock holds one TensorFlow, the same one; the rest of each is requirements.lock's.
    for lock in CPU_LOCKS.values():
        found = pins(lock)
        tensorflow = {name: found.pop(name) for name in ("tensorflow", "tensorflow-cpu") if name in found}
        assert tensorflow == ({"tensorflow-cpu": "2.21.0"} if lock == "requirements.lock" else {"tensorflow": "2.21.0"})
        assert found == {name: version for name, version in reference.items() if name != "tensorflow-cpu"}, lock
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        exact = re.match(r"([A-Za-z0-9._-]+)(?:\[[^]]*\])?==([^;\s]+)", requirement)
        if exact:
            assert reference[exact.group(1).lower().replace("_", "-").replace(".", "-")] == exact.group(2)


# `make ui` against a real `mlflow ui`.


@pytest.fixture(scope="module")
def mlflow_ui(tmp_path_factory):
    """A SQLite store holding the pipeline's two experiments, and `mlflow ui` serving it on 127.0.0.1."""
    store = f"sqlite:///{tmp_path_factory.mktemp('ui')}/mlflow.db"
    client = MlflowClient(tracking_uri=store)
    ids = [client.create_experiment(f"rnncompare-{task}") for task in ("sum", "mnist")]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", store,
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_health(server, f"http://127.0.0.1:{port}", "mlflow ui")
    yield store, port, ids
    server.terminate()
    server.wait(timeout=30)


def printed_addresses(store: str, port: int) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "rnncompare", "ui", "--print-only", "--store", store, "--port", str(port)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return re.findall(r"http://\S+", result.stdout)


def test_make_ui_prints_the_pipelines_runs_and_the_experiments_page_which_the_ui_serves(mlflow_ui):
    store, port, (sum_id, mnist_id) = mlflow_ui
    base = f"http://127.0.0.1:{port}"
    ids = "%2C".join(f"%22{i}%22" for i in sorted([sum_id, mnist_id]))
    runs = f"{base}/#/compare-experiments/s?experiments=%5B{ids}%5D&workflowType=machine_learning"
    assert printed_addresses(store, port) == [base, runs, f"{base}/#/experiments?workflowType=machine_learning"]
    page = requests.get(runs, timeout=30)  # the part after # is the JS app's, the server sends the app
    assert page.ok and "<title>MLflow</title>" in page.text
    script = re.search(r'src="(static-files/static/js/main\.[0-9a-f]+\.js)"', page.text).group(1)
    app = requests.get(f"{base}/{script}", timeout=30)
    assert app.ok
    # The app routes the printed pages and reads workflowType (else it shows the layout chosen last).
    for route in ('"/experiments"', '"/experiments/:experimentId/runs"', '"/compare-experiments/:searchString"'):
        assert route in app.text
    assert 'get("workflowType")' in app.text and '"machine_learning"' in app.text
    for experiment in (sum_id, mnist_id):  # what the runs page asks the server for
        answer = requests.get(f"{base}/ajax-api/2.0/mlflow/experiments/get?experiment_id={experiment}", timeout=30)
        assert answer.ok and answer.json()["experiment"]["name"].startswith("rnncompare-")


def test_one_experiment_opens_on_its_runs_and_an_empty_store_on_the_experiments_page(tmp_path):
    from rnncompare.tracking import ui

    store = f"sqlite:///{tmp_path}/mlflow.db"
    base = "http://127.0.0.1:5000"
    assert ui.addresses(store, base, "rnncompare")[0].startswith("No runs yet: `make repro` records them into")
    experiment = MlflowClient(tracking_uri=store).create_experiment("rnncompare-mnist")
    assert ui.addresses(store, base, "rnncompare") == [
        f"The pipeline's runs (rnncompare-mnist): {base}/#/experiments/{experiment}/runs?workflowType=machine_learning",
        f"All experiments: {base}/#/experiments?workflowType=machine_learning",
    ]
