"""MLflow, for real: a `mlflow server` on 127.0.0.1, the train and evaluate stages logging to it,
then the REST API asked what each run holds. Also an unreachable store, a killed stage and two
stages writing one SQLite store at once."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import requests
import yaml

from tests.conftest import MNIST_LIKE_T10K, REPO_ROOT, default_params_text, run_module

EPOCHS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(server: subprocess.Popen, uri: str, what: str) -> None:
    """Wait until an MLflow server process answers /health, or kill it and fail."""
    deadline = time.monotonic() + 120  # a loaded 2-core machine starts it slowly
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{uri}/health", timeout=5).ok:
                return
        except requests.RequestException:
            time.sleep(0.5)
    server.kill()
    pytest.fail(f"{what} did not answer /health within 120 s")


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """A real tracking server with a SQLite store and its own artifact folder."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{folder}/mlflow.db", "--artifacts-destination", str(folder / "artifacts"),
         "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    wait_for_health(server, uri, "mlflow server")
    yield uri
    server.terminate()
    server.wait(timeout=30)


def tiny_params_file(path, epochs=EPOCHS, learning_rate=0.01):
    """params.yaml as committed, with models and training small enough to run in seconds."""
    document = yaml.safe_load(default_params_text())
    for task in ("sum", "mnist"):
        document["train"][task].update(
            epochs=epochs, batch_size=32, learning_rate=learning_rate, patience=epochs, train_size=256
        )
    for model in document["models"].values():
        model.update(units=8, layers=1)
    path.write_text(yaml.safe_dump(document))
    return path


def train_and_evaluate(folder, data, task, variant, env, epochs=EPOCHS, learning_rate=0.01):
    params = tiny_params_file(folder / "params.yaml", epochs, learning_rate)
    name = f"{task}-{variant}"
    train = run_module(
        "stages.train", "--task", task, "--variant", variant, "--params", str(params), "--data", str(data / task),
        "--model", f"models/{name}.keras", "--summary", f"models/{name}.json",
        "--history", f"plots/{name}.csv", "--history-png", f"plots/{name}.png", cwd=folder, env=env,
    )  # fmt: skip
    if train.returncode:
        return train, None
    evaluate = run_module(
        "stages.evaluate", "--task", task, "--model", f"models/{name}.keras", "--data", str(data / task),
        "--metrics", f"metrics/{name}.json", "--plot", f"plots/{task}/{variant}.csv",
        "--plot-png", f"plots/{task}/{variant}.png", "--summary", f"models/{name}.json", "--params", str(params),
        cwd=folder, env=env,
    )  # fmt: skip
    return train, evaluate


def api(uri, endpoint, **query):
    response = requests.get(f"{uri}/api/2.0/mlflow/{endpoint}", params=query, timeout=30)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def logged_run(mlflow_server, tiny_data, tmp_path_factory):
    """train@mnist-gru and evaluate@mnist-gru, logging to the server; the run as the REST API gives it."""
    folder = tmp_path_factory.mktemp("stage")
    train, evaluate = train_and_evaluate(folder, tiny_data, "mnist", "gru", {"MLFLOW_TRACKING_URI": mlflow_server})
    assert train.returncode == 0, train.stderr[-3000:]
    assert evaluate.returncode == 0, evaluate.stderr[-3000:]
    summary = json.loads((folder / "models/mnist-gru.json").read_text())
    run = api(mlflow_server, "runs/get", run_id=summary["mlflow_run_id"])["run"]
    return {"folder": folder, "summary": summary, "run": run}


def test_the_run_records_every_param_the_stage_used(logged_run):
    params = {item["key"]: item["value"] for item in logged_run["run"]["data"]["params"]}
    assert params["task"] == "mnist" and params["variant"] == "gru"
    assert params["train.mnist.epochs"] == str(EPOCHS) and params["train.mnist.batch_size"] == "32"
    assert params["models.gru.units"] == "8" and params["models.gru.cell"] == "gru"
    assert params["train.seed"] == "0" and params["train.deterministic"] == "True"


def test_the_run_has_per_epoch_curves_and_the_final_test_metrics(logged_run, mlflow_server):
    run_id = logged_run["summary"]["mlflow_run_id"]
    for key in ("train.loss", "validation.loss", "validation.accuracy"):
        history = api(mlflow_server, "metrics/get-history", run_id=run_id, metric_key=key)["metrics"]
        assert [point["step"] for point in history] == list(range(1, EPOCHS + 1))
    latest = {item["key"]: item["value"] for item in logged_run["run"]["data"]["metrics"]}
    metrics = json.loads((logged_run["folder"] / "metrics/mnist-gru.json").read_text())
    assert latest["test.accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert latest["test.per_class_accuracy.7"] == pytest.approx(metrics["test"]["per_class_accuracy"]["7"])
    assert logged_run["run"]["info"]["status"] == "FINISHED"


def test_the_run_records_lineage_versions_device_and_how_to_reproduce(logged_run, mlflow_server):
    tags = {item["key"]: item["value"] for item in logged_run["run"]["data"]["tags"]}
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    assert tags["git.commit"] == commit.strip() and tags["git.dirty"] in ("true", "false")
    assert tags["dvc.stage"] == "train@mnist-gru"
    apply = "git apply changes.diff && " if tags["git.dirty"] == "true" else ""
    assert tags["reproduce"] == f"git checkout {commit.strip()} && {apply}dvc repro train@mnist-gru evaluate@mnist-gru"
    files = api(mlflow_server, "artifacts/list", run_id=logged_run["summary"]["mlflow_run_id"])["files"]
    assert ("changes.diff" in {item["path"] for item in files}) == bool(apply)
    assert {"versions.python", "versions.tensorflow", "versions.keras", "versions.dvc", "versions.mlflow"} <= set(tags)
    assert tags["device"] == "cpu" and tags["backend"] == "tensorflow"
    assert tags["mlflow.parentRunId"] and tags["pipeline.execution"]
    datasets = logged_run["run"]["inputs"]["dataset_inputs"]
    contexts = {next(tag["value"] for tag in item["tags"] if tag["key"] == "mlflow.data.context") for item in datasets}
    assert contexts == {"training", "validation", "testing"}
    assert all(any(tag["key"] == "sha256" for tag in item["tags"]) for item in datasets)


def test_the_logged_model_loads_with_pyfunc_and_predicts_as_the_keras_file(logged_run, mlflow_server, tiny_data):
    import mlflow

    from rnncompare.evaluation.metrics import load_model
    from rnncompare.training.inputs import load_tests

    mlflow.set_tracking_uri(mlflow_server)
    images = load_tests("mnist", tiny_data / "mnist")["test"][0][:64]
    logged = mlflow.pyfunc.load_model(logged_run["summary"]["mlflow_model_uri"])
    expected = load_model(logged_run["folder"] / "models/mnist-gru.keras").predict(images, verbose=0)
    np.testing.assert_allclose(np.asarray(logged.predict(images)), expected, rtol=1e-5, atol=1e-6)
    info = mlflow.models.get_model_info(logged_run["summary"]["mlflow_model_uri"])
    assert tuple(info.signature.inputs.to_dict()[0]["tensor-spec"]["shape"]) == (-1, 28, 28)
    assert info.saved_input_example_info is not None


def test_the_run_holds_the_curves_and_confusion_matrix_as_pictures(logged_run, mlflow_server):
    files = api(mlflow_server, "artifacts/list", run_id=logged_run["summary"]["mlflow_run_id"], path="plots")
    assert sorted(item["path"] for item in files["files"]) == ["plots/gru.png", "plots/mnist-gru.png"]


def test_the_champion_is_registered_and_loads_by_alias(logged_run, mlflow_server, tiny_data, mnist_like):
    import mlflow

    folder = logged_run["folder"]
    result = run_module(
        "stages.register", "--task", "mnist", "--variants", "gru", "--params", str(folder / "params.yaml"),
        "--data", str(tiny_data / "mnist"), "--out", "models/champion-mnist.json",
        cwd=folder, env={"MLFLOW_TRACKING_URI": mlflow_server},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "already exists" not in result.stdout + result.stderr  # the first registration of this model
    champion = json.loads((folder / "models/champion-mnist.json").read_text())
    assert champion["variant"] == "gru" and champion["uri"] == "models:/rnncompare-mnist@champion"
    mlflow.set_tracking_uri(mlflow_server)
    described = mlflow.MlflowClient().get_registered_model("rnncompare-mnist").description
    assert described == "The best mnist model of the pipeline by test.accuracy."
    model = mlflow.pyfunc.load_model(champion["uri"])
    from rnncompare.training.inputs import load_tests

    images, labels = load_tests("mnist", tiny_data / "mnist")["test"]
    accuracy = float(np.mean(np.asarray(model.predict(images)).argmax(axis=1) == labels))
    assert accuracy == pytest.approx(champion["value"])
    predicted = run_module(
        "rnncompare", "predict", "--champion", "mnist", "--idx", str(mnist_like / "t10k-images-idx3-ubyte.gz"),
        "--labels", str(mnist_like / "t10k-labels-idx1-ubyte.gz"),
        "--params", str(folder / "params.yaml"), cwd=folder, env={"MLFLOW_TRACKING_URI": mlflow_server},
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert f"accuracy {accuracy:.4f} on {MNIST_LIKE_T10K} images" in predicted.stdout


def test_an_unreachable_server_fails_the_stage_before_training(tiny_data, tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    train, _ = train_and_evaluate(tmp_path, tiny_data, "sum", "rnn", {"MLFLOW_TRACKING_URI": uri})
    assert train.returncode == 1
    assert f"cannot reach the MLflow tracking store {uri}" in train.stderr
    assert "epoch 1/" not in train.stderr and not (tmp_path / "models").exists()


def test_a_stage_killed_mid_training_leaves_its_run_failed(mlflow_server, tiny_data, tmp_path):
    params = tiny_params_file(tmp_path / "params.yaml", epochs=500)
    stage = subprocess.Popen(
        [sys.executable, "-m", "stages.train", "--task", "sum", "--variant", "lstm", "--params", str(params),
         "--data", str(tiny_data / "sum"), "--model", "m.keras", "--summary", "m.json", "--history", "h.csv",
         "--history-png", "h.png"],
        cwd=tmp_path, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "MLFLOW_TRACKING_URI": mlflow_server},
    )  # fmt: skip
    for line in stage.stderr:
        if "epoch 2/500" in line:
            break
    stage.send_signal(signal.SIGTERM)
    stage.communicate(timeout=120)
    assert stage.returncode == 128 + signal.SIGTERM
    experiment = api(mlflow_server, "experiments/get-by-name", experiment_name="rnncompare-sum")["experiment"]
    runs = requests.post(
        f"{mlflow_server}/api/2.0/mlflow/runs/search",
        json={"experiment_ids": [experiment["experiment_id"]], "filter": "tags.variant = 'lstm'"},
        timeout=30,
    ).json()["runs"]
    assert [run["info"]["status"] for run in runs] == ["FAILED"]
    assert not (tmp_path / "m.keras").exists()


def test_two_stages_logging_to_one_sqlite_store_at_once_lose_nothing(tiny_data, tmp_path):
    """Also: a model with our own LN-LSTM cell loads from MLflow in a fresh process (predict)."""
    import mlflow

    store = f"sqlite:///{tmp_path}/mlflow.db"
    env = {"MLFLOW_TRACKING_URI": store}
    run_module("mlflow", "gc", "--backend-store-uri", store, env=env)  # creates the schema once, as a first stage would
    epochs = 6
    stages = []
    for variant in ("rnn", "lnlstm"):
        folder = tmp_path / variant
        folder.mkdir()
        params = tiny_params_file(folder / "params.yaml", epochs=epochs)
        stages.append(subprocess.Popen(
            [sys.executable, "-m", "stages.train", "--task", "sum", "--variant", variant, "--params", str(params),
             "--data", str(tiny_data / "sum"), "--model", "m.keras", "--summary", "m.json", "--history", "h.csv",
             "--history-png", "h.png"],
            cwd=folder, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        ))  # fmt: skip
    for stage in stages:
        _, errors = stage.communicate(timeout=600)
        assert stage.returncode == 0, errors[-3000:]
    mlflow.set_tracking_uri(store)
    runs = mlflow.search_runs(experiment_names=["rnncompare-sum"], filter_string="tags.variant != ''")
    assert sorted(runs["tags.variant"]) == ["lnlstm", "rnn"] and set(runs["status"]) == {"FINISHED"}
    client = mlflow.MlflowClient()
    for run_id in runs["run_id"]:
        assert len(client.get_metric_history(run_id, "validation.loss")) == epochs
    uri = json.loads((tmp_path / "lnlstm" / "m.json").read_text())["mlflow_model_uri"]
    result = run_module(
        "rnncompare", "predict", "--model", uri, "--bits", "011010",
        "--params", str(tmp_path / "lnlstm" / "params.yaml"), cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("011010: sum ") and "true 3" in result.stdout


def test_mlflow_still_needs_the_keras_input_example_workaround(tmp_path):
    """When this fails, MLflow writes the input example after creating the model folder:
    drop keras_logging.KerasFlavor and call mlflow.keras.log_model directly."""
    import keras
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with mlflow.start_run(), pytest.raises(FileNotFoundError, match="input_example"):
        mlflow.keras.log_model(model, name="model", input_example=np.zeros((1, 3), np.float32))
