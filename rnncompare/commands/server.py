"""A team's MLflow tracking server on PostgreSQL, on this machine (rnncompare/team/server.py).

    rnncompare server start [--host 0.0.0.0] [--server-args "--app-name basic-auth"]   # make server
    rnncompare server stop                                                             # make server-stop
    rnncompare server upgrade       # after an MLflow upgrade that changes its schema: back up, then migrate
    rnncompare server remove        # stop it and delete its runs, artifacts and PostgreSQL cluster (asks first)

`start` prints the MLFLOW_TRACKING_URI to export. Everything lives in .mlflow-server/ (as root, the
cluster lives under the postgres user's home, linked from there); `remove` deletes both.
"""

import argparse
import shlex
import sys
from pathlib import Path

from rnncompare.core.errors import PipelineError, run_stage
from rnncompare.core.repository import repository_root
from rnncompare.team import server as team_server


def confirmed(server: team_server.Server) -> bool:
    """Ask on the terminal; a session without one must say --yes."""
    where = team_server.cluster_location(server)
    question = (
        f"Delete the team server's data: the PostgreSQL cluster {where} and {server.folder} "
        "(every run, model and artifact recorded there)? Type yes: "
    )
    if not sys.stdin.isatty():
        raise PipelineError(f"{question.split('?')[0]}? Say so with --yes (make server-remove YES=1).")
    return input(question).strip().lower() == "yes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "upgrade", "remove"])
    parser.add_argument("--host", default="127.0.0.1", help="the address the server listens on")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--postgres-port", type=int, default=55432)
    parser.add_argument("--folder", type=Path, default=None, help="default: .mlflow-server at the repository root")
    parser.add_argument(
        "--server-args", default="", help="more `mlflow server` arguments, e.g. '--app-name basic-auth'"
    )
    parser.add_argument("--yes", action="store_true", help="with remove: do not ask")
    arguments = parser.parse_args()
    folder = (arguments.folder or repository_root() / ".mlflow-server").absolute()
    extra = tuple(shlex.split(arguments.server_args))
    server = team_server.Server(folder, arguments.host, arguments.port, arguments.postgres_port, extra)
    if arguments.action == "stop":
        team_server.stop(server)
    elif arguments.action == "upgrade":
        team_server.upgrade(server)
    elif arguments.action == "remove":
        if arguments.yes or confirmed(server):
            team_server.remove(server)
        else:
            print("nothing removed")
    else:
        team_server.start(server)
        team_server.fail_runs_of_dead_stages(server)
        print(f"export MLFLOW_TRACKING_URI={server.uri}")


if __name__ == "__main__":
    run_stage(main)
