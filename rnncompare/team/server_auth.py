"""MLflow's basic authentication for `make server SERVER_ARGS="--app-name basic-auth"`.

What the auth app needs is checked before the server starts, each missing piece named with its
fix, and its user store is kept in the server's folder (MLflow's default, basic_auth.db in the
working directory, would sit in the repository).
"""

import configparser
import contextlib
import importlib.util
import os
import re
from pathlib import Path

from rnncompare.core.errors import PipelineError

SECRET_KEY = "MLFLOW_FLASK_SERVER_SECRET_KEY"
ADMIN_PASSWORD = "MLFLOW_AUTH_ADMIN_PASSWORD"
CONFIG_PATH = "MLFLOW_AUTH_CONFIG_PATH"
CREDENTIALS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def uses_basic_auth(server_args: tuple[str, ...]) -> bool:
    return "basic-auth" in server_args or "--app-name=basic-auth" in server_args


def mlflow_default_config() -> Path:
    mlflow_folder = Path(importlib.util.find_spec("mlflow").submodule_search_locations[0])
    return mlflow_folder / "server" / "auth" / "basic_auth.ini"


def config_path(folder: Path) -> Path:
    """The auth app's configuration: the user's MLFLOW_AUTH_CONFIG_PATH, else MLflow's own file
    with its user store moved into `folder`, written once."""
    if os.environ.get(CONFIG_PATH):
        return Path(os.environ[CONFIG_PATH])
    config = folder / "basic_auth.ini"
    if not config.exists():
        store = f"database_uri = sqlite:///{(folder / 'basic_auth.db').resolve()}"
        config.write_text(re.sub(r"(?m)^database_uri = .*$", lambda _: store, mlflow_default_config().read_text()))
    return config


def settings(config: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    if not parser.read(config):
        raise PipelineError(f"{CONFIG_PATH}={config}: no such file; point it at a copy of {mlflow_default_config()}.")
    return parser["mlflow"]


def environment(folder: Path) -> dict[str, str]:
    """The variables `mlflow server --app-name basic-auth` needs, or an error naming the one missing."""
    if not os.environ.get(SECRET_KEY):
        raise PipelineError(
            f"--app-name basic-auth needs {SECRET_KEY}, the same on every start and on every server of the "
            f"team (MLflow signs its CSRF tokens with it): export {SECRET_KEY}=$(python -c "
            "'import secrets; print(secrets.token_hex(32))'), keep it with the server's other secrets, and run "
            "make server again."
        )
    config = config_path(folder)
    store = settings(config)["database_uri"]
    first_start = store.startswith("sqlite:///") and not Path(store.removeprefix("sqlite:///")).exists()
    if first_start and not os.environ.get(ADMIN_PASSWORD) and not settings(config).get("admin_password"):
        raise PipelineError(
            f"the first start of --app-name basic-auth creates the admin user, and MLflow ships no password "
            f"for it: export {ADMIN_PASSWORD}='<a password>' and run make server again (later starts ignore it)."
        )
    return {CONFIG_PATH: str(config)}


@contextlib.contextmanager
def admin_credentials(folder: Path):
    """The client's own MLFLOW_TRACKING_USERNAME/PASSWORD, else the admin's from MLFLOW_AUTH_ADMIN_PASSWORD."""
    if all(os.environ.get(name) for name in CREDENTIALS) or not os.environ.get(ADMIN_PASSWORD):
        yield
        return
    admin = settings(config_path(folder)).get("admin_username", "admin")
    with _environment(dict(zip(CREDENTIALS, (admin, os.environ[ADMIN_PASSWORD]), strict=True))):
        yield


@contextlib.contextmanager
def _environment(variables: dict[str, str]):
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
