"""`make server SERVER_ARGS="--app-name basic-auth"`, as the README's Authentication section runs
it: what MLflow's auth app needs is named before anything starts, its user store stays in the
server's folder, and the server's own check for runs of dead stages logs in."""

import shutil

import pytest

from tests.conftest import REPO_ROOT
from tests.test_team import client, server_command
from tests.test_tracking import free_port

pytestmark = pytest.mark.slow
AUTH = ("--server-args", "--app-name basic-auth")


@pytest.fixture
def folder(tmp_path):
    from rnncompare.team.server import postgres_binaries

    try:
        postgres_binaries()
    except Exception as error:
        pytest.skip(f"needs PostgreSQL: {error}")
    return tmp_path / ".mlflow-server"


def test_basic_auth_names_each_missing_secret_then_starts_and_checks_runs_as_the_admin(folder, monkeypatch):
    from mlflow.exceptions import MlflowException

    from rnncompare.config.params import load_params
    from rnncompare.core.errors import PipelineError
    from rnncompare.tracking import store as tracking

    ports = {"mlflow": free_port(), "postgres": free_port()}
    try:
        no_key = server_command(folder, "start", ports, *AUTH)
        assert no_key.returncode == 1 and "MLFLOW_FLASK_SERVER_SECRET_KEY" in no_key.stderr
        assert "Traceback" not in no_key.stderr and "export MLFLOW_TRACKING_URI" not in no_key.stdout
        assert not (folder / "postgres").exists()  # refused before anything started

        key = {"MLFLOW_FLASK_SERVER_SECRET_KEY": "a-test-key"}
        no_password = server_command(folder, "start", ports, *AUTH, env=key)
        assert no_password.returncode == 1 and "export MLFLOW_AUTH_ADMIN_PASSWORD=" in no_password.stderr

        admin = {"MLFLOW_AUTH_ADMIN_PASSWORD": "twelve-chars-or-more"}
        started = server_command(folder, "start", ports, *AUTH, env={**key, **admin})
        assert started.returncode == 0, started.stderr
        assert "Traceback" not in started.stderr and "refused" not in started.stderr
        uri = started.stdout.strip().removeprefix("export MLFLOW_TRACKING_URI=")
        assert (folder / "basic_auth.db").exists()  # not in the repository

        with pytest.raises(MlflowException, match="401"):
            client(uri).search_experiments()
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        with pytest.raises(PipelineError, match=r"refused this client .*set MLFLOW_TRACKING_USERNAME and MLFLOW_"):
            tracking.connect(load_params(REPO_ROOT / "params.yaml").mlflow)  # what every stage does first
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", admin["MLFLOW_AUTH_ADMIN_PASSWORD"])
        assert client(uri).search_experiments()

        restarted = server_command(folder, "stop", ports)
        assert restarted.returncode == 0, restarted.stderr
        # later starts need no admin password; without credentials the check is skipped, and says how
        again = server_command(folder, "start", ports, *AUTH, env=key)
        assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
        assert "MLFLOW_TRACKING_USERNAME" in again.stderr and again.stdout.startswith("export MLFLOW_TRACKING_URI=")
    finally:
        server_command(folder, "stop", ports)
        shutil.rmtree((folder / "postgres").resolve(), ignore_errors=True)  # as root: under postgres's home
