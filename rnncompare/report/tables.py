"""The report's tables: per task, each model's test metrics, parameters, epochs, training time,
device and a link to its MLflow run; and the files they are read from."""

import csv
import json
import logging
from pathlib import Path
from urllib.parse import urlparse

from rnncompare.core.errors import PipelineError
from rnncompare.core.nested import flatten

log = logging.getLogger(__name__)
TASKS = ("sum", "mnist")
TUTORIALS = Path("tutorials/results")  # where `make tutorials` writes (tutorials/dvc.yaml)

# Per task: the metrics in the table (first: the one in the bar chart's title) and the validation curve.
COLUMNS = {
    "sum": [
        "test.within_0.05",
        "test.rounded_accuracy",
        "test.mae",
        "test_20bits.rounded_accuracy",
        "test_50bits.rounded_accuracy",
    ],
    "mnist": ["test.accuracy", "test.loss"],
}
CURVE = {"sum": "val_loss", "mnist": "val_accuracy"}
BARS = {
    "sum": ["test.within_0.05", "test.rounded_accuracy", "test_20bits.rounded_accuracy"],
    "mnist": ["test.accuracy"],
}
SWEEP_METRICS = {"rounded_accuracy": "rounded accuracy", "mae": "mean absolute error"}


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise PipelineError(f"{path} not found; build it first with `dvc repro`.")
    return json.loads(path.read_text())


def read_history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else {}


def devices(summary: dict) -> str:
    """e.g. "cpu (tensorflow)", or "gpu: NVIDIA H100 x 2 (tensorflow)" for a mirrored run."""
    replicas = summary.get("replicas", 1)
    return f"{summary['device']}{f' x {replicas}' if replicas > 1 else ''} ({summary['backend']})"


def ui_of(store: str) -> str:
    """Where a store's runs are browsed: a server is its own UI; a local store's is `make ui`'s."""
    return store.rstrip("/") if urlparse(store).scheme in ("http", "https") else "http://127.0.0.1:5000"


def run_link(summary: dict, store: str) -> str:
    """A link to the model's run, in the UI of the store that recorded it."""
    if not summary.get("mlflow_run_id"):
        return "—"
    recorded = summary.get("mlflow_tracking_uri", store)
    if recorded != store and urlparse(recorded).scheme not in ("http", "https"):
        return f"in another store ({recorded})"
    page = f"#/experiments/{summary.get('mlflow_experiment_id', '0')}/runs/{summary['mlflow_run_id']}"
    return f"[run]({ui_of(recorded)}/{page})"


def length_curve(metrics: dict, training_length: int) -> dict[int, dict]:
    """Sequence length -> that test set's metrics, from a sum model's metrics (`test`, `test_<n>bits`)."""
    curve = {}
    for name, values in metrics.items():
        if name == "test":
            curve[training_length] = values
        elif name.startswith("test_") and name.endswith("bits") and name[5:-4].isdigit():
            curve[int(name[5:-4])] = values
    return dict(sorted(curve.items()))


def trained_lengths(params) -> str:
    """e.g. "10 bits", or "1-20 bits" for mixed-length training."""
    mixed = params.sum.train_lengths
    return f"{mixed[0]}-{mixed[1]} bits" if mixed else f"{params.sum.length} bits"


def table(task: str, names: list[str], metrics: dict, summaries: dict, store: str) -> list[str]:
    columns = COLUMNS[task]
    lines = [
        "| model | " + " | ".join(columns) + " | parameters | epochs | s/epoch | train s | device | MLflow |",
        "|---|" + "---:|" * (len(columns) + 4) + "---|---|",
    ]
    for name in names:
        values = flatten(metrics[name])
        summary = summaries[name]
        cells = [f"{values[column]:.4f}" if column in values else "—" for column in columns]
        seconds, epochs = summary["train_seconds"], summary["epochs_run"]
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {summary['parameters']:,} | {epochs} | "
            f"{seconds / epochs:.1f} | {seconds:.0f} | {devices(summary)} | {run_link(summary, store)} |"
        )
    return lines


def champion_line(task: str, best: dict) -> str:
    if best.get("version") is None:
        this_run = best.get("this_run", {})
        return (
            f"No champion in this store's registry. This run's best, {task}-{this_run.get('variant')}, was "
            f"{this_run.get('reason', 'not registered')}."
        )
    return (
        f"Champion: **{task}-{best['variant']}** ({best['metric']} {best['value']:.4f}), "
        f"registered as `{best['uri']}` (version {best['version']})."
    )
