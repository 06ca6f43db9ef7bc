"""A team's setup, for real: `rnncompare server` (make server) starts MLflow's server on a PostgreSQL
cluster of its own; a pipeline records into it; DVC's queue runs a sweep into it with two workers;
experiments travel between clones through a git remote and a DVC remote; and the faults a team
meets (the server down, killed mid-training, restarted) lose nothing and leave no run RUNNING.

The tests share one server and one clone and run in file order.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clones import GIT, copy_repository, make, newest_experiment, run, tiny_profile
from tests.conftest import REPO_ROOT
from tests.test_tracking import free_port

pytestmark = pytest.mark.slow
VARIANTS = ("gru",)


def server_command(folder: Path, action: str, ports: dict, *extra: str, env: dict | None = None):
    return run(sys.executable, "-m", "rnncompare", "server", action, "--folder", str(folder),
               "--port", str(ports["mlflow"]), "--postgres-port", str(ports["postgres"]), *extra,
               cwd=REPO_ROOT, check=False, env={"PYTHONPATH": str(REPO_ROOT), **(env or {})}, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The project's team server in a folder of its own; stopped, and its cluster removed, at the end."""
    from rnncompare.team.server import postgres_binaries

    try:
        postgres_binaries()
    except Exception as error:
        pytest.skip(f"needs PostgreSQL: {error}")
    folder = tmp_path_factory.mktemp("team") / ".mlflow-server"
    ports = {"mlflow": free_port(), "postgres": free_port()}
    try:
        started = server_command(folder, "start", ports)
        assert started.returncode == 0, started.stdout + started.stderr
        yield {"folder": folder, "ports": ports, "uri": f"http://127.0.0.1:{ports['mlflow']}", "first_start": started}
    finally:
        cluster = (folder / "postgres").resolve()
        removed = server_command(folder, "remove", ports, "--yes")  # make server-remove YES=1
        left = [line for line in psutil_commands() if str(cluster) in line or f"--port {ports['mlflow']}" in line]
        assert removed.returncode == 0 and not left, (removed.stderr, left)  # no process left behind
        assert not cluster.exists() and not folder.exists()


def psutil_commands() -> list[str]:
    import psutil

    return [" ".join(process.info["cmdline"] or []) for process in psutil.process_iter(["cmdline"])]


def client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


def runs(uri: str, filter_string: str = "tags.variant != ''") -> list:
    tracking = client(uri)
    experiments = [experiment.experiment_id for experiment in tracking.search_experiments()]
    return tracking.search_runs(experiments, filter_string, max_results=1000)


def psql(server: dict, query: str) -> str:
    from rnncompare.team.server import postgres_binaries

    result = subprocess.run(
        [str(postgres_binaries() / "psql"), "-h", "127.0.0.1", "-p", str(server["ports"]["postgres"]), "-U", "mlflow",
         "-d", "mlflow", "-tAc", query],
        capture_output=True, text=True, env={**os.environ, "PGPASSFILE": str(server["folder"] / "pgpass")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def origin(tmp_path_factory, mnist_like, server) -> Path:
    """A clone whose one-variant tiny pipeline recorded into the team server, brought into the
    workspace (`dvc exp apply`) and committed."""
    clone = copy_repository(tmp_path_factory.mktemp("origin") / "repo", tiny_profile(mnist_like, VARIANTS), VARIANTS)
    make("repro", "PROFILE=tiny", cwd=clone, env={"MLFLOW_TRACKING_URI": server["uri"]})
    run("dvc", "exp", "apply", newest_experiment(clone, "tiny-"), cwd=clone)
    run(*GIT, "add", "-A", cwd=clone)
    run(*GIT, "commit", "-q", "-m", "tiny pipeline", cwd=clone)
    return clone


def test_make_server_prints_the_uri_to_export_and_starting_twice_is_harmless(server):
    assert f"export MLFLOW_TRACKING_URI={server['uri']}" in server["first_start"].stdout
    again = server_command(server["folder"], "start", server["ports"])
    assert again.returncode == 0 and "already running" in again.stderr
    assert f"export MLFLOW_TRACKING_URI={server['uri']}" in again.stdout


def test_a_pipeline_records_every_run_in_postgresql_and_models_download_through_the_server(server, origin, tmp_path):
    import mlflow

    experiment = newest_experiment(origin, "tiny-")  # the profile's run that made origin's results
    recorded = runs(server["uri"], f"tags.variant != '' and tags.`dvc.experiment` = '{experiment}'")
    assert sorted(f"{model.data.tags['variant']}@{model.data.tags['task']}" for model in recorded) == [
        "gru@mnist",
        "gru@sum",
    ]
    assert {model.info.status for model in recorded} == {"FINISHED"}
    in_postgres = psql(server, "SELECT count(*) FROM runs WHERE status = 'FINISHED' AND lifecycle_stage = 'active'")
    assert int(in_postgres) >= 2  # the models' runs, and their parent
    mlflow.set_tracking_uri(server["uri"])
    for model in recorded:
        assert model.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied: no storage access needed
        summary = json.loads((origin / "models" / f"{model.data.tags['task']}-gru.json").read_text())
        folder = tmp_path / model.info.run_id
        local = Path(mlflow.artifacts.download_artifacts(summary["mlflow_model_uri"], dst_path=str(folder)))
        assert (local / "MLmodel").is_file() and (local / "data").is_dir()
    assert any((server["folder"] / "artifacts").rglob("MLmodel"))  # stored by the server, not the client


def test_a_sweep_through_the_queue_with_two_workers_loses_no_run_metric_or_artifact(server, origin):
    before = {run.info.run_id for run in runs(server["uri"])}
    try:
        make("sweep", "SWEEP=train.sum.epochs=1,3", "JOBS=2", "PROFILE=tiny", cwd=origin,
             env={"MLFLOW_TRACKING_URI": server["uri"]})  # fmt: skip
    finally:
        run("dvc", "queue", "stop", cwd=origin, check=False)  # no worker outlives the test
    new = [run for run in runs(server["uri"]) if run.info.run_id not in before]
    # Two experiments, each retraining only the sum model (MNIST comes from the run-cache).
    assert len(new) == 2 and {run.data.tags["task"] for run in new} == {"sum"}
    assert {run.info.status for run in new} == {"FINISHED"}
    experiments = {run.data.tags["dvc.experiment"] for run in new}
    assert len(experiments) == 2 and all(re.fullmatch(r"sweep-\d{8}-\d{6}-[12]", name) for name in experiments)
    shown = json.loads(run("dvc", "exp", "show", "--json", cwd=origin).stdout)
    by_name = {
        experiment["name"]: experiment["data"]["metrics"]["metrics/sum-gru.json"]["data"]["test"]["mae"]
        for baseline in shown
        for experiment in (entry["revs"][0] for entry in baseline.get("experiments") or [])
        if experiment.get("name") in experiments
    }
    tracking = client(server["uri"])
    for mlflow_run in new:
        assert mlflow_run.data.metrics["test.mae"] == pytest.approx(by_name[mlflow_run.data.tags["dvc.experiment"]])
        assert {"train.loss", "validation.loss"} <= set(mlflow_run.data.metrics)
        assert [artifact.path for artifact in tracking.list_artifacts(mlflow_run.info.run_id, "plots")]
        parent = tracking.get_run(mlflow_run.data.tags["mlflow.parentRunId"])
        assert parent.info.run_name == f"dvc exp {mlflow_run.data.tags['dvc.experiment']}"  # one group per experiment


def test_experiments_travel_between_clones_through_git_and_dvc_remotes(server, origin, tmp_path):
    bare, storage = tmp_path / "team.git", tmp_path / "dvc-remote"
    run("git", "init", "-q", "--bare", str(bare), cwd=tmp_path)
    run("git", "remote", "add", "origin", str(bare), cwd=origin)
    run("git", "push", "-q", "origin", "HEAD:main", cwd=origin)
    run("dvc", "remote", "add", "--local", "-d", "team", str(storage), cwd=origin)
    first = newest_experiment(origin, "tiny-")  # the profile's run that made origin's results
    run("dvc", "exp", "push", "origin", first, cwd=origin)

    second = tmp_path / "second"
    run("git", "clone", "-q", "-b", "main", str(bare), str(second), cwd=tmp_path)
    (second / ".venv").symlink_to((origin / ".venv").resolve())
    run("dvc", "remote", "add", "--local", "-d", "team", str(storage), cwd=second)
    make("pull", cwd=second)
    run("dvc", "exp", "run", "-n", "from-second", "-S", "train.sum.epochs=5", cwd=second,
        env={"MLFLOW_TRACKING_URI": server["uri"]})  # fmt: skip
    run("dvc", "exp", "push", "origin", "from-second", cwd=second)

    third = tmp_path / "third"
    run("git", "clone", "-q", "-b", "main", str(bare), str(third), cwd=tmp_path)
    run("dvc", "remote", "add", "--local", "-d", "team", str(storage), cwd=third)
    run("dvc", "exp", "pull", "origin", first, "from-second", cwd=third)
    shown = json.loads(run("dvc", "exp", "show", "--json", "-A", cwd=third).stdout)  # theirs, and the parent's
    maes = {
        experiment["name"]: experiment["data"]["metrics"]["metrics/sum-gru.json"]["data"]["test"]["mae"]
        for baseline in shown
        for experiment in (entry["revs"][0] for entry in baseline.get("experiments") or [])
    }
    assert {first, "from-second"} <= set(maes) and all(maes[name] >= 0 for name in (first, "from-second"))
    names = {run_.data.tags.get("dvc.experiment") for run_ in runs(server["uri"])}
    assert {first, "from-second"} <= names  # the server holds both experiments' runs


def train_stage(clone: Path, params: Path, uri: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "stages.train", "--task", "sum", "--variant", "gru", "--params", str(params),
               "--data", "data/sum", "--model", "long.keras", "--summary", "long.json", "--history", "long.csv",
               "--history-png", "long.png"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MLFLOW_TRACKING_URI": uri}
    return subprocess.Popen(command, cwd=clone, stderr=subprocess.PIPE, text=True, env=env)


def test_a_server_killed_mid_training_fails_the_stage_and_its_run_ends_failed(server, origin):
    import yaml

    settings = yaml.safe_load((origin / "params.yaml").read_text())
    settings["train"]["sum"].update(epochs=500, patience=500)  # longer than the test waits
    params = origin / "long.yaml"
    params.write_text(yaml.safe_dump(settings))
    stage = train_stage(origin, params, server["uri"])
    for line in stage.stderr:
        if "epoch 2/500" in line:
            break
    pid = int((server["folder"] / "mlflow-server.pid").read_text().split()[0])
    os.killpg(pid, signal.SIGKILL)  # the whole server, its workers too
    started = time.monotonic()
    _, errors = stage.communicate(timeout=300)
    assert stage.returncode == 1, errors[-3000:]
    assert f"lost the MLflow tracking store {server['uri']}" in errors and "Traceback" not in errors
    assert time.monotonic() - started < 120

    restarted = server_command(server["folder"], "start", server["ports"])
    assert restarted.returncode == 0, restarted.stderr
    assert "marked 1 run(s) of stages that died FAILED" in restarted.stderr
    assert not runs(server["uri"], "attributes.status = 'RUNNING'")
    killed = runs(server["uri"], "attributes.status = 'FAILED' and tags.variant = 'gru'")
    assert len(killed) == 1 and killed[0].data.tags["process.ended"].startswith("its stage died")


def test_a_stage_started_while_the_server_is_down_fails_at_once_and_a_restart_loses_nothing(server, origin):
    before = {run.info.run_id: run.info.status for run in runs(server["uri"], "")}
    stopped = server_command(server["folder"], "stop", server["ports"])
    assert stopped.returncode == 0, stopped.stderr
    started = time.monotonic()
    stage = train_stage(origin, origin / "params.yaml", server["uri"])
    _, errors = stage.communicate(timeout=120)
    assert stage.returncode == 1 and f"cannot reach the MLflow tracking store {server['uri']}" in errors
    assert time.monotonic() - started < 60 and "epoch 1/" not in errors

    restarted = server_command(server["folder"], "start", server["ports"])
    assert restarted.returncode == 0, restarted.stderr
    assert {run.info.run_id: run.info.status for run in runs(server["uri"], "")} == before


def test_the_documented_upgrade_backs_the_database_up_and_keeps_every_run(server):
    before = {run.info.run_id: run.info.status for run in runs(server["uri"], "")}
    upgraded = server_command(server["folder"], "upgrade", server["ports"])
    assert upgraded.returncode == 0, upgraded.stderr
    backups = list(server["folder"].glob("backup-*.sql"))
    assert len(backups) == 1 and "CREATE TABLE public.runs" in backups[0].read_text()
    restarted = server_command(server["folder"], "start", server["ports"])
    assert restarted.returncode == 0, restarted.stderr
    assert {run.info.run_id: run.info.status for run in runs(server["uri"], "")} == before


def test_a_deleted_clones_server_data_are_named_and_make_server_remove_deletes_them(server, tmp_path):
    """As root, the cluster lives under the postgres user's home, named after the clone's path: it
    outlives a deleted clone. A new clone at the same path is told the one command that removes it."""
    from rnncompare.team.server import Server, start_postgres, stop

    folder = tmp_path / "clone" / ".mlflow-server"
    ports = {"mlflow": free_port(), "postgres": free_port()}
    folder.mkdir(parents=True)
    first = Server(folder, "127.0.0.1", ports["mlflow"], ports["postgres"])
    start_postgres(first)  # what `make server` starts first: the clone's cluster
    stop(first)
    cluster = (folder / "postgres").resolve()
    shutil.rmtree(folder)  # the clone is deleted; as root, its cluster is not
    if os.geteuid() == 0:
        again = server_command(folder, "start", ports)
        assert again.returncode == 1 and "Traceback" not in again.stderr
        assert f"the PostgreSQL cluster {cluster} exists but its password file" in again.stderr
        assert "`make server-remove`" in again.stderr
    unasked = server_command(folder, "remove", ports)  # no terminal to ask on
    assert unasked.returncode == 1 and "Say so with --yes (make server-remove YES=1)" in unasked.stderr
    removed = server_command(folder, "remove", ports, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not cluster.exists() and not folder.exists()
