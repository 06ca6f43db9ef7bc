"""Browse the runs (`make ui`): MLflow's UI on the pipeline's store, with the addresses of the
pipeline's runs printed first (MLflow 3 opens on its GenAI page).

With MLFLOW_TRACKING_URI (or mlflow.tracking_uri) at a tracking server, that server is the UI:
its addresses are printed, without any user name or password, and nothing is started.
"""

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.tracking.store import store_name, tracking_uri
from rnncompare.tracking.ui import addresses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5000, help="the port of `mlflow ui` for a local store")
    parser.add_argument("--store", help="the tracking URI to show (default: the pipeline's)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--print-only", action="store_true", help="print the addresses, start no UI")
    arguments = parser.parse_args()
    settings = load_params(arguments.params).mlflow
    store = arguments.store or tracking_uri(settings)
    remote = urlparse(store).scheme in ("http", "https")
    base = store_name(store) if remote else f"http://127.0.0.1:{arguments.port}"
    print(f"The runs are on the tracking server {base}" if remote else f"MLflow UI at {base} (Ctrl-C stops it)")
    print("\n".join("  " + line for line in addresses(store, base, settings.experiment_prefix)), flush=True)
    if remote or arguments.print_only:
        return
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", store, "--host", "127.0.0.1"]
    os.execv(sys.executable, [*command, "--port", str(arguments.port)])


if __name__ == "__main__":
    run_stage(main)
