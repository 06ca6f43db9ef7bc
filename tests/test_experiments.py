"""Off the scripted path, for real: one tiny `make repro` in a temporary git clone, then what a user
does next. Models load anywhere (a fresh process outside the repository, `predict`, `mlflow models
serve`), DVC experiments and the queue keep their metrics and reuse unchanged stages through the
run-cache, the champion alias only moves forward, and a failure costs no good result.

The tests share one pipeline: each leaves the clone as it found it, or checks what the fixtures
recorded when they ran.
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import requests
import yaml

from rnncompare.tracking.lineage import file_md5
from tests.clones import (
    GIT,
    TASKS,
    VENV_BIN,
    copy_repository,
    environment,
    make,
    mlflow_runs,
    newest_experiment,
    run,
    tiny_profile,
    trained_stages,
)
from tests.conftest import REPO_ROOT, run_module
from tests.test_tracking import free_port

pytestmark = pytest.mark.slow
# Our own cell, and Keras' LSTM cell made bidirectional with its forget-gate bias: every way a
# variant is built and loaded, in two variants instead of five (the file's pipeline is CI's longest test).
VARIANTS = ("lnlstm", "bilstm")
FIRST = f"sum-{VARIANTS[0]}"  # the first model `dvc repro` trains


@dataclass(frozen=True)
class ProfileRun:
    """What `make repro PROFILE=tiny` left in a fresh clone, and what the gate and a baseline said of
    it right after, before anything else touched the clone."""

    clone: Path
    experiment: str
    changed: list[str]  # `git status` after the run, and after the gates, the baseline and promote
    params_kept: bool  # params.yaml byte for byte
    report: Path
    gate_without_baseline: subprocess.CompletedProcess
    baseline: subprocess.CompletedProcess
    gate: subprocess.CompletedProcess
    gate_after_a_params_edit: subprocess.CompletedProcess
    params_kept_by_the_gates: bool
    baseline_models: set[str]  # what `make baseline` wrote into baselines/tiny.yaml
    promote: subprocess.CompletedProcess  # `make promote` with no pipeline run in the workspace


@pytest.fixture(scope="module")
def profile_run(tmp_path_factory, mnist_like) -> ProfileRun:
    clone = copy_repository(
        tmp_path_factory.mktemp("experiments") / "repo", tiny_profile(mnist_like, VARIANTS), VARIANTS
    )
    params = clone / "params.yaml"
    before = params.read_bytes()
    make("repro", "PROFILE=tiny", cwd=clone)
    changed = run("git", "status", "--porcelain", "--untracked-files=all", cwd=clone).stdout.splitlines()
    kept = params.read_bytes() == before
    without = make("check", "PROFILE=tiny", cwd=clone, check=False)
    baseline = make("baseline", "PROFILE=tiny", cwd=clone, check=False)
    baseline_models = set(yaml.safe_load((clone / "baselines" / "tiny.yaml").read_text())["models"])
    gate = make("check", "PROFILE=tiny", cwd=clone, check=False)
    kept_by_the_gates = params.read_bytes() == before
    params.write_text(params.read_text().replace("\n  seed: 0 ", "\n  seed: 1 ", 1))  # train.seed: 1
    stale = make("check", "PROFILE=tiny", cwd=clone, check=False)
    params.write_bytes(before)
    promote = make("promote", "TASK=sum", "VERSION=1", cwd=clone, check=False)
    after = run("git", "status", "--porcelain", "--untracked-files=all", cwd=clone).stdout.splitlines()
    changed += [line for line in after if line != " M baselines/tiny.yaml"]  # what `make baseline` writes, alone
    report = clone / "reports" / "tiny" / "index.md"
    experiment = newest_experiment(clone, "tiny-")
    return ProfileRun(
        clone, experiment, changed, kept, report, without, baseline, gate, stale, kept_by_the_gates, baseline_models,
        promote,
    )  # fmt: skip


@pytest.fixture(scope="module")
def clone(profile_run) -> Path:
    """The clone with the tiny profile's experiment brought into its workspace (`dvc exp apply`) and
    committed: the pipeline as a user who continues from it has it."""
    clone = profile_run.clone
    run("dvc", "exp", "apply", profile_run.experiment, cwd=clone)
    run(*GIT, "add", "-A", cwd=clone)
    run(*GIT, "commit", "-q", "-m", "tiny pipeline", cwd=clone)
    return clone


def test_a_profile_runs_as_an_experiment_and_leaves_the_workspace_as_it_was(profile_run):
    assert profile_run.changed == [] and profile_run.params_kept
    assert profile_run.report.read_text().startswith("# Recurrent variants compared")
    shown = json.loads(run("dvc", "exp", "show", "--json", "-A", cwd=profile_run.clone).stdout)
    names = {rev["name"] for baseline in shown for found in baseline.get("experiments") or [] for rev in found["revs"]}
    assert profile_run.experiment in names


def test_the_gate_and_a_baseline_read_the_profiles_experiment_and_never_write_params_yaml(profile_run):
    assert profile_run.gate_without_baseline.returncode != 0
    assert "NO BASELINE" in profile_run.gate_without_baseline.stdout
    assert profile_run.baseline.returncode == 0, profile_run.baseline.stderr
    assert profile_run.baseline_models == {f"{task}-{variant}" for task in TASKS for variant in VARIANTS}
    assert profile_run.gate.returncode == 0, profile_run.gate.stdout + profile_run.gate.stderr
    title = f"Metrics of {profile_run.experiment} (profile tiny) against baselines/tiny.yaml: passed"
    assert title in profile_run.gate.stdout
    assert profile_run.params_kept_by_the_gates


def test_make_promote_after_a_profiles_run_moves_the_alias_and_leaves_the_workspace_alone(profile_run):
    assert profile_run.promote.returncode == 0, profile_run.promote.stderr
    assert "the workspace holds no models/champion-sum.json: the registry's alias moved" in profile_run.promote.stderr


def test_the_gate_refuses_a_profile_run_that_the_params_no_longer_give(profile_run):
    stale = profile_run.gate_after_a_params_edit
    assert stale.returncode != 0 and "Traceback" not in stale.stderr
    assert f"the newest run of profile tiny, {profile_run.experiment}, is stale" in stale.stderr
    assert "run make repro PROFILE=tiny" in stale.stderr


def test_dvc_metrics_show_is_clean(clone):
    result = run("dvc", "metrics", "show", cwd=clone)
    assert "failed" not in (result.stdout + result.stderr).lower()
    assert "metrics/mnist-lnlstm.json" in result.stdout and "tutorial" not in result.stdout


def model_uris(clone: Path) -> dict[str, str]:
    uris = {}
    for task in TASKS:
        for variant in VARIANTS:
            summary = json.loads((clone / "models" / f"{task}-{variant}.json").read_text())
            uris[f"{task}-{variant}"] = summary["mlflow_model_uri"]  # models:/<logged model id>
            uris[f"{task}-{variant} run"] = f"runs:/{summary['mlflow_run_id']}/model"
        champion = json.loads((clone / "models" / f"champion-{task}.json").read_text())
        uris[f"{task} champion"] = champion["uri"]
        uris[f"{task} champion version"] = f"models:/{champion['registered_model']}/{champion['version']}"
    return uris


FRESH_PROCESS = """
import json, sys
import mlflow, numpy as np
inputs = {"sum": np.ones((2, 7, 1), np.float32), "mnist": np.zeros((2, 28, 28), np.float32)}
for name, uri in json.loads(sys.argv[1]).items():
    model = mlflow.pyfunc.load_model(uri)
    task = name.split("-")[0].split(" ")[0]
    print(name, np.asarray(model.predict(inputs[task])).shape)
print("rnncompare from", sys.modules["rnncompare"].__file__)
"""


def test_every_model_loads_in_a_fresh_process_outside_the_repository(clone, tmp_path):
    uris = model_uris(clone)
    env = {**environment(), "MLFLOW_TRACKING_URI": f"sqlite:///{clone / 'mlflow.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, json.dumps(uris)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    for name in uris:
        shape = "(2, 1)" if name.startswith("sum") else "(2, 10)"
        assert f"{name} {shape}" in result.stdout
    # our code came with the model, not from the repository
    assert "/artifacts/code/rnncompare/__init__.py" in result.stdout.splitlines()[-1]


def test_mlflow_keras_loads_every_variant_after_import_rnncompare(clone, tmp_path):
    script = (
        "import json, sys, rnncompare, mlflow\n"
        "for uri in json.loads(sys.argv[1]): print(type(mlflow.keras.load_model(uri)).__name__)\n"
    )
    uris = [uri for name, uri in model_uris(clone).items() if name.startswith("mnist-") and name.endswith(" run")]
    env = {**environment(), "MLFLOW_TRACKING_URI": f"sqlite:///{clone / 'mlflow.db'}", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(uris)], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.split() == ["Functional"] * len(VARIANTS)


def test_predict_with_both_champions_and_with_a_custom_cell_run(clone, mnist_like):
    bits = run_module("rnncompare", "predict", "--champion", "sum", "--bits", "0110100111", cwd=clone)
    assert bits.returncode == 0, bits.stderr[-3000:]
    assert bits.stdout.startswith("0110100111: sum ") and "true 6" in bits.stdout
    images = str(mnist_like / "t10k-images-idx3-ubyte.gz")
    digits = run_module("rnncompare", "predict", "--champion", "mnist", "--idx", images, "--show", "2", cwd=clone)
    assert digits.returncode == 0, digits.stderr[-3000:]
    assert digits.stdout.startswith("image 0: ")
    lnlstm = json.loads((clone / "models" / "mnist-lnlstm.json").read_text())["mlflow_run_id"]
    run_uri = run_module("rnncompare", "predict", "--model", f"runs:/{lnlstm}/model", "--idx", images, cwd=clone)
    assert run_uri.returncode == 0, run_uri.stderr[-3000:]


def test_predict_takes_a_model_file_the_pipeline_wrote_as_the_mlflow_model_its_training_logged(clone, tmp_path):
    summary = json.loads((clone / "models" / f"{FIRST}.json").read_text())
    result = run_module("rnncompare", "predict", "--model", f"models/{FIRST}.keras", "--bits", "0110100111", cwd=clone)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("0110100111: sum ") and summary["mlflow_model_uri"] in result.stderr
    stray = tmp_path / "copied.keras"
    stray.write_bytes((clone / "models" / f"{FIRST}.keras").read_bytes())
    refused = run_module("rnncompare", "predict", "--model", str(stray), "--bits", "0110", cwd=clone)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"--model {stray} is a Keras file, and {stray.with_suffix('.json')}" in refused.stderr


def test_predict_refuses_a_model_of_the_other_task_in_one_line(clone):
    result = run_module("rnncompare", "predict", "--champion", "mnist", "--bits", "0110", cwd=clone)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "models:/rnncompare-mnist@champion is a mnist model, but --bits needs a sum model" in result.stderr


def test_predict_names_a_bad_idx_file_and_what_to_give(clone, tmp_path):
    bad = tmp_path / "digits.gz"
    bad.write_bytes(b"not gzip at all")
    result = run_module("rnncompare", "predict", "--champion", "mnist", "--idx", str(bad), cwd=clone)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "digits.gz from --idx is not a readable gzip file" in result.stderr and "mirror" not in result.stderr


def serve_and_ask(clone: Path, uri: str, inputs: np.ndarray) -> list:
    port = free_port()
    env = {**environment(), "MLFLOW_TRACKING_URI": f"sqlite:///{clone / 'mlflow.db'}"}
    command = [str(VENV_BIN / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=clone, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(1)
        response = requests.post(f"http://127.0.0.1:{port}/invocations", json={"inputs": inputs.tolist()}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["predictions"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def test_mlflow_models_serve_answers_a_request_for_each_champion(clone):
    sums = serve_and_ask(clone, "models:/rnncompare-sum@champion", np.ones((1, 10, 1), np.float32))
    assert np.asarray(sums).shape == (1, 1)
    digits = serve_and_ask(clone, "models:/rnncompare-mnist@champion", np.zeros((3, 28, 28), np.float32))
    assert np.asarray(digits).shape == (3, 10) and np.allclose(np.sum(digits, axis=1), 1.0, atol=1e-4)


@dataclass(frozen=True)
class Queued:
    """Two sum-only experiments run by DVC's queue, 2 at a time, and the runs MLflow held before."""

    sum_before: int
    status: str  # `dvc queue status` at the end


@pytest.fixture(scope="module")
def queued(clone) -> Queued:
    sum_before = len(mlflow_runs(clone, "sum"))
    for epochs in (4, 1):  # values only these experiments train: none comes from the run-cache
        run("dvc", "exp", "run", "--queue", "-S", f"train.sum.epochs={epochs}", "-n", f"sum-epochs-{epochs}", cwd=clone)
    # The workers it starts run on in the background: they must not hold this test's output pipes.
    started = subprocess.run(
        ["dvc", "queue", "start", "-j", "2"], cwd=clone, env=environment(), timeout=120,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert started.returncode == 0
    try:
        deadline = time.monotonic() + 900
        while "Running" in (status := run("dvc", "queue", "status", cwd=clone).stdout) or "Queued" in status:
            assert time.monotonic() < deadline, status
            time.sleep(5)
    finally:
        run("dvc", "queue", "stop", cwd=clone, check=False)  # leave no worker behind
    return Queued(sum_before, status)


def test_queued_sum_only_experiments_train_no_mnist_model_and_keep_their_metrics(clone, queued):
    sum_before, status = queued.sum_before, queued.status
    assert status.count("Success") == 2, status

    # Counted by the experiments' own tags: other tests of this module record runs in the same store.
    names = ["sum-epochs-4", "sum-epochs-1"]
    mnist = mlflow_runs(clone, "mnist")
    assert "tags.dvc.experiment" not in mnist or not mnist["tags.dvc.experiment"].isin(names).any()  # no MNIST model
    runs = mlflow_runs(clone, "sum")
    queued = runs["tags.dvc.experiment"].isin(names)
    assert len(runs) >= sum_before + 2 * len(VARIANTS) and queued.sum() == 2 * len(VARIANTS)
    assert set(runs.loc[queued, "status"]) == {"FINISHED"}  # (a test that fails a stage on purpose leaves its own)
    reproduce = runs.loc[runs["tags.dvc.experiment"] == "sum-epochs-1", "tags.reproduce"]
    assert all(command.startswith("dvc exp apply sum-epochs-1 && dvc repro train@sum-") for command in reproduce)

    shown = json.loads(run("dvc", "exp", "show", "--json", cwd=clone).stdout)
    experiments = {
        rev["name"]: rev for baseline in shown for found in baseline.get("experiments") or [] for rev in found["revs"]
    }
    for name in ("sum-epochs-4", "sum-epochs-1"):
        metrics = experiments[name]["data"]["metrics"]
        assert metrics[f"metrics/{FIRST}.json"]["data"]["test"]["mae"] >= 0
        assert metrics["metrics/mnist-lnlstm.json"]["data"]["test"]["accuracy"] >= 0
    plots = run("dvc", "plots", "diff", "sum-epochs-4", "sum-epochs-1", "--json", cwd=clone)
    assert f"plots/history/{FIRST}.csv" in plots.stdout and "failed" not in plots.stderr
    assert not json.loads(plots.stdout).get("errors")

    check_the_champion_only_moves_forward(clone)


def check_the_champion_only_moves_forward(clone):
    """The alias names the best version on the same test data, and the experiments' descriptions agree."""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{clone / 'mlflow.db'}")
    versions = client.search_model_versions("name = 'rnncompare-sum'")
    # By score, not by version: make promote's test registers a copy of the champion, an equal.
    best = min(float(version.tags["test.mae"]) for version in versions)
    assert float(client.get_model_version_by_alias("rnncompare-sum", "champion").tags["test.mae"]) == best
    worse = [v for v in versions if v.tags.get("dvc.experiment") == "sum-epochs-1"]
    assert worse and float(worse[0].tags["test.mae"]) > best
    assert "does not beat" in worse[0].tags["champion.decision"]
    run("dvc", "exp", "apply", "sum-epochs-1", cwd=clone)
    described = json.loads((clone / "models" / "champion-sum.json").read_text())
    assert described["this_run"]["promoted"] is False and described["this_run"]["version"] == int(worse[0].version)
    run("git", "checkout", "--", ".", cwd=clone)
    run("dvc", "checkout", "--force", cwd=clone)


def test_the_run_cache_restores_a_reverted_change_without_training(clone, queued):
    before = {path.name: file_md5(path) for path in (clone / "models").glob("sum-*.keras")}
    runs = len(mlflow_runs(clone, "sum"))
    params = clone / "params.yaml"
    text = params.read_text()
    changed = text.replace("    epochs: 2\n", "    epochs: 4\n", 1)
    assert changed != text
    try:
        params.write_text(changed)
        seen = make("repro", cwd=clone).stdout  # the queue trained exactly these params: restored
    finally:
        params.write_text(text)
    assert trained_stages(seen) == [] and f"Stage 'train@{FIRST}' is cached - skipping run" in seen
    back = make("repro", cwd=clone).stdout
    assert trained_stages(back) == [] and f"Stage 'train@{FIRST}' is cached - skipping run" in back
    assert {path.name: file_md5(path) for path in (clone / "models").glob("sum-*.keras")} == before
    assert len(mlflow_runs(clone, "sum")) == runs  # a restored stage records no run


def test_a_typo_in_params_stops_make_repro_before_any_stage_removes_an_output(clone):
    models = {path.name: file_md5(path) for path in (clone / "models").glob("*.keras")}
    params = clone / "params.yaml"
    text = params.read_text()
    params.write_text(text.replace("\ntrain:\n", "\ntrian:\n"))
    result = make("repro", cwd=clone, check=False)
    params.write_text(text)
    assert result.returncode != 0 and "unknown key 'trian'" in result.stderr
    assert "Running stage" not in result.stdout
    assert {path.name: file_md5(path) for path in (clone / "models").glob("*.keras")} == models


def test_a_bad_value_given_to_dvc_exp_run_is_named_with_where_it_stays(clone):
    models = {path.name: file_md5(path) for path in (clone / "models").glob("*.keras")}
    params = clone / "params.yaml"
    text = params.read_text()
    result = run("dvc", "exp", "run", "--set-param", "train.sum.epochs=zero", cwd=clone, check=False)
    left = params.read_text()
    params.write_text(text)
    run("dvc", "checkout", "--quiet", cwd=clone)  # the outputs DVC removed before the failing stage
    assert result.returncode != 0 and "train.sum.epochs = 'zero' is invalid" in result.stderr
    assert "`dvc exp run --set-param` writes into params.yaml and leaves its values there" in result.stderr
    assert "epochs: zero" in left  # as the message says
    assert {path.name: file_md5(path) for path in (clone / "models").glob("*.keras")} == models


def test_a_failed_stage_gets_its_last_good_outputs_back_and_a_fix_retrains_nothing(clone):
    model = clone / "models" / f"{FIRST}.keras"
    good = file_md5(model)
    params = clone / "params.yaml"
    text = params.read_text()
    failing = text.replace("    learning_rate: 0.003\n", "    learning_rate: 1.0e+30\n", 1)  # train.sum: NaN loss
    assert failing != text
    params.write_text(failing)
    result = make("repro", cwd=clone, check=False)
    assert result.returncode != 0 and "loss became NaN" in result.stderr
    assert "restoring the last good outputs" in result.stderr
    assert file_md5(model) == good  # back from the cache: DVC removed it before running the stage
    params.write_text(text)
    fixed = make("repro", cwd=clone).stdout
    assert trained_stages(fixed) == [] and file_md5(model) == good


def test_make_promote_moves_the_alias_by_hand_and_the_next_repro_keeps_it(clone):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{clone / 'mlflow.db'}")  # MLflow resolves a version's source there
    client = mlflow.MlflowClient()
    champion = int(client.get_model_version_by_alias("rnncompare-sum", "champion").version)
    held = client.get_model_version("rnncompare-sum", str(champion))
    other = int(client.create_model_version("rnncompare-sum", held.source, run_id=held.run_id, tags=held.tags).version)
    try:
        make("promote", "TASK=sum", f"VERSION={other}", cwd=clone)
        assert int(client.get_model_version_by_alias("rnncompare-sum", "champion").version) == other
        described = json.loads((clone / "models" / "champion-sum.json").read_text())
        assert described["version"] == other and described["this_run"]["reason"] == "promoted by hand (make promote)"
        assert f"(version {other})" in (clone / "reports" / "compare" / "index.md").read_text()
        twice = make("promote", "TASK=sum", f"VERSION={other}", cwd=clone)
        assert f"alias champion already at version {other}; nothing moved" in twice.stderr
        again = make("repro", cwd=clone).stdout
        assert "Running stage" not in again
        assert int(client.get_model_version_by_alias("rnncompare-sum", "champion").version) == other
    finally:
        make("promote", "TASK=sum", f"VERSION={champion}", cwd=clone)  # the champion the others expect
