"""A team's MLflow tracking server on PostgreSQL, on this machine (`make server`, `make server-stop`).

PostgreSQL runs a cluster of its own, made with the system's binaries (Debian's `postgresql`) and
listening on 127.0.0.1 only. MLflow's server runs on top of it and proxies artifacts
(`--artifacts-destination`), so clients need no shared filesystem and no storage credentials.
Everything lives in .mlflow-server/ (git-ignored). `initdb` and `pg_ctl` refuse to run as root, so
as root PostgreSQL runs as the `postgres` user, its cluster under that user's home (a clone may
live where `postgres` cannot reach) and linked from .mlflow-server/postgres.

Starting twice is harmless; stopping loses nothing (runs live in PostgreSQL, artifacts on disk).
"""

import contextlib
import getpass
import hashlib
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
from mlflow.exceptions import MlflowException

from rnncompare.core.errors import PipelineError
from rnncompare.team import server_auth
from rnncompare.tracking import orphans
from rnncompare.tracking.store import refused_credentials

log = logging.getLogger(__name__)
DATABASE = "mlflow"
ROLE = "mlflow"
START_TIMEOUT_SECONDS = 180  # the first start creates MLflow's tables


@dataclass(frozen=True)
class Server:
    folder: Path
    host: str
    port: int
    postgres_port: int
    extra: tuple[str, ...] = ()  # more `mlflow server` arguments, e.g. --app-name basic-auth

    @property
    def uri(self) -> str:
        return f"http://{'127.0.0.1' if self.host in ('0.0.0.0', '::') else self.host}:{self.port}"

    @property
    def cluster(self) -> Path:
        return self.folder / "postgres"

    @property
    def passfile(self) -> Path:  # libpq's password file: the password stays off every command line
        return self.folder / "pgpass"

    @property
    def backend_uri(self) -> str:
        return f"postgresql+psycopg2://{ROLE}@127.0.0.1:{self.postgres_port}/{DATABASE}"

    @property
    def pid_file(self) -> Path:
        return self.folder / "mlflow-server.pid"


def postgres_binaries() -> Path:
    """The folder of initdb and pg_ctl: PG_BIN, else Debian's newest /usr/lib/postgresql/<v>/bin, else PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PipelineError(
        "PostgreSQL's initdb is not installed: `apt-get install postgresql` (Debian/Ubuntu), "
        "`brew install postgresql` (macOS), or set PG_BIN to the folder that holds initdb and pg_ctl."
    )


def as_postgres_owner(command: list[str]) -> list[str]:
    """PostgreSQL's tools refuse root: as root, they run as the `postgres` user."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PipelineError("running as root, and there is no `postgres` user to run PostgreSQL as") from None
    return ["runuser", "-u", "postgres", "--", *command]


def cluster_location(server: Server) -> Path:
    """Where the cluster's files are or will be: in .mlflow-server/, or (as root, where `postgres`
    may not reach the clone) under the postgres user's home, named after the clone's path."""
    if os.geteuid() != 0:
        return server.cluster
    if server.cluster.is_symlink():  # made by an earlier start, also before the clone moved
        return Path(os.readlink(server.cluster))
    digest = hashlib.sha1(str(server.folder.resolve()).encode()).hexdigest()[:12]
    return Path(pwd.getpwnam("postgres").pw_dir) / f"rnncompare-{digest}"


def cluster_home(server: Server) -> Path:
    """The cluster's folder; as root, linked from .mlflow-server/postgres."""
    home = cluster_location(server)
    if home != server.cluster and not server.cluster.is_symlink():
        server.cluster.symlink_to(home)
    return home


def private_write(path: Path, text: str) -> None:
    """A file only its owner can read, from its first byte."""
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(text)


def run(command: list[str], what: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise PipelineError(f"{what} failed ({' '.join(command[:3])} ...):\n{(result.stdout + result.stderr)[-2000:]}")
    return result


def start_postgres(server: Server) -> None:
    binaries = postgres_binaries()
    data = cluster_home(server)
    owner = "postgres" if os.geteuid() == 0 else getpass.getuser()
    if (data / "PG_VERSION").is_file() and not server.passfile.is_file():
        raise PipelineError(
            f"the PostgreSQL cluster {data} exists but its password file {server.passfile} is gone (an earlier "
            f"clone at this path made it?): put the file back (a line *:*:*:{ROLE}:<password>), or remove the "
            "cluster, its runs and artifacts with `make server-remove` and run make server again."
        )
    if not (data / "PG_VERSION").is_file():
        if port_taken("127.0.0.1", server.postgres_port):
            raise PipelineError(
                f"port {server.postgres_port} is taken (another clone's server?): choose another, "
                "make server POSTGRES_PORT=..."
            )
        password = secrets.token_urlsafe(24)
        private_write(server.passfile, f"*:*:*:{ROLE}:{password}\n")
        data.parent.mkdir(parents=True, exist_ok=True)
        secret = data.parent / f".{data.name}.password"  # readable by the cluster's owner, then removed
        private_write(secret, password + "\n")
        shutil.chown(secret, owner)
        try:
            log.info("creating a PostgreSQL cluster in %s", data)
            run(
                as_postgres_owner(
                    [
                        str(binaries / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        ROLE,
                        f"--pwfile={secret}",
                        "--auth=scram-sha-256",
                        "-E",
                        "UTF8",
                    ]
                ),  # fmt: skip
                "initdb",
            )
        finally:
            secret.unlink(missing_ok=True)
    status = subprocess.run(
        as_postgres_owner([str(binaries / "pg_ctl"), "-D", str(data), "status"]), capture_output=True
    )
    if status.returncode != 0:
        options = f"-p {server.postgres_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        run(
            as_postgres_owner(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(data / "server.log"),
                    "-w",
                    "-o",
                    options,
                    "start",
                ]
            ),  # fmt: skip
            f"starting PostgreSQL (its log: {data / 'server.log'})",
        )
    exists = run(
        [
            str(binaries / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.postgres_port),
            "-U",
            ROLE,
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
        ],  # fmt: skip
        "connecting to PostgreSQL",
        env={"PGPASSFILE": str(server.passfile)},
    )
    if exists.stdout.strip() != "1":
        run(
            [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(server.postgres_port), "-U", ROLE, DATABASE],
            "creating the database",
            env={"PGPASSFILE": str(server.passfile)},
        )


def answers(server: Server) -> bool:
    try:
        return requests.get(f"{server.uri}/health", timeout=2).ok
    except requests.RequestException:
        return False


def running_pid(server: Server) -> int | None:
    """The server's pid, if that process still runs: the file holds its start time too, so a pid
    reused by another process (after a reboot) is never taken for it."""
    with contextlib.suppress(FileNotFoundError, ValueError, psutil.Error):
        pid, started = server.pid_file.read_text().split()
        if f"{psutil.Process(int(pid)).create_time():.2f}" == started:
            return int(pid)
    server.pid_file.unlink(missing_ok=True)
    return None


def port_taken(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port)) == 0


def start(server: Server) -> None:
    server.folder.mkdir(mode=0o700, exist_ok=True)  # the password, backups and artifacts: this user's only
    auth = server_auth.environment(server.folder) if server_auth.uses_basic_auth(server.extra) else {}
    start_postgres(server)
    if running_pid(server) and answers(server):
        log.info("the MLflow server is already running at %s", server.uri)
        return
    if port_taken(server.host, server.port):
        raise PipelineError(
            f"port {server.port} on {server.host} is taken by another program: stop it, or choose another port "
            f"(make server SERVER_PORT=...)."
        )
    artifacts = server.folder / "artifacts"
    artifacts.mkdir(exist_ok=True)
    logfile = server.folder / "mlflow-server.log"
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", server.backend_uri,
               "--artifacts-destination", str(artifacts.resolve()),
               "--host", server.host, "--port", str(server.port), *server.extra]  # fmt: skip
    with logfile.open("a") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: server-stop stops its workers too
            env={**os.environ, "PGPASSFILE": str(server.passfile.resolve()), **auth},
        )
    server.pid_file.write_text(f"{process.pid} {psutil.Process(process.pid).create_time():.2f}")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not answers(server):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_mlflow(server)
            tail = logfile.read_text()[-2000:]
            hint = " It may need `mlflow db upgrade` (docs/team-setup.md)." if "upgrade" in tail.lower() else ""
            raise PipelineError(f"the MLflow server did not start; the end of {logfile}:\n{tail}{hint}")
        time.sleep(0.5)
    log.info("MLflow server on PostgreSQL, artifacts proxied from %s", artifacts)


def stop_mlflow(server: Server) -> None:
    pid = running_pid(server)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    server.pid_file.unlink(missing_ok=True)


def stop(server: Server, removing: bool = False) -> None:
    stop_mlflow(server)
    data = server.cluster.resolve() if server.cluster.exists() else None
    if data and (data / "PG_VERSION").exists():
        pg_ctl = [str(postgres_binaries() / "pg_ctl"), "-D", str(data)]
        if subprocess.run(as_postgres_owner([*pg_ctl, "status"]), capture_output=True).returncode == 0:
            run(as_postgres_owner([*pg_ctl, "-m", "fast", "-w", "stop"]), "stopping PostgreSQL")
    if not removing:
        log.info("stopped the MLflow server and PostgreSQL; their data stay in %s", server.folder)


def remove(server: Server) -> list[Path]:
    """Stop the server and delete its data: the PostgreSQL cluster (wherever it lives) and the
    server's folder (artifacts, password file, backups, logs). Returns what was deleted."""
    data = cluster_location(server)
    if server.folder.exists():
        stop(server, removing=True)
    elif (data / "PG_VERSION").is_file():  # a cluster whose clone is gone: stop it all the same
        pg_ctl = [str(postgres_binaries() / "pg_ctl"), "-D", str(data)]
        if subprocess.run(as_postgres_owner([*pg_ctl, "status"]), capture_output=True).returncode == 0:
            run(as_postgres_owner([*pg_ctl, "-m", "fast", "-w", "stop"]), "stopping PostgreSQL")
    removed = []
    for path in dict.fromkeys((data, server.folder)):
        if path.is_symlink() or path.exists():
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            removed.append(path)
    log.info("removed %s", ", ".join(map(str, removed)) if removed else f"nothing: no server data for {server.folder}")
    return removed


def upgrade(server: Server) -> Path:
    """`mlflow db upgrade`, as MLflow asks after an upgrade that changes its schema: with the server
    stopped and the database backed up first (pg_dump). Returns the backup's path."""
    stop_mlflow(server)
    start_postgres(server)
    backup = server.folder / f"backup-{time.strftime('%Y%m%dT%H%M%S')}.sql"
    credentials = {"PGPASSFILE": str(server.passfile)}
    run([str(postgres_binaries() / "pg_dump"), "-h", "127.0.0.1", "-p", str(server.postgres_port), "-U", ROLE,
         "-f", str(backup), DATABASE], "backing the database up (pg_dump)", env=credentials)  # fmt: skip
    run([sys.executable, "-m", "mlflow", "db", "upgrade", server.backend_uri], "mlflow db upgrade", env=credentials)
    log.info("database backed up to %s and upgraded; start the server: make server", backup)
    return backup


def fail_runs_of_dead_stages(server: Server) -> None:
    """Runs left RUNNING by stages that died while the server was down; with authentication, as
    the client's user or else the admin."""
    try:
        with server_auth.admin_credentials(server.folder):
            failed = orphans.fail_runs_of_dead_stages(server.uri)
    except MlflowException as error:
        if not refused_credentials(error):
            raise
        log.warning(
            "the server runs, but refused this check for runs of stages that died (%s); set %s and %s "
            "(or %s on the server's first start) and run make server again to make it.",
            str(error).split(". Response body")[0], *server_auth.CREDENTIALS, server_auth.ADMIN_PASSWORD,
        )  # fmt: skip
        return
    if failed:
        log.info("marked %d run(s) of stages that died FAILED", failed)
