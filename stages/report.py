"""Stage report: one markdown page comparing every variant on each task, with PNG plots.

reports/index.md holds, per task, a table of final test metrics, parameter counts, training time,
device and a link to each model's MLflow run; the seed-parity presets next to the modern
defaults (when `make presets` has run); reports/<task>-validation.png (validation curves of all
variants), reports/<task>-test.png (a bar chart of the headline test metrics) and
reports/sum-lengths.png (how far each variant counts: the sum length sweep).
One run per variant: `make compare` (stages/compare.py) repeats them over seeds, with statistics.
"""

import argparse
import csv
import json
import logging
from pathlib import Path
from urllib.parse import urlparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rnncompare import tracking  # noqa: E402
from rnncompare.config import load_params  # noqa: E402
from rnncompare.errors import PipelineError, run_stage  # noqa: E402
from rnncompare.nested import flatten  # noqa: E402
from rnncompare.outputs import replaced_directory  # noqa: E402

log = logging.getLogger(__name__)
TASKS = ("sum", "mnist")
PRESETS = Path("presets/results")  # where `make presets` writes (presets/dvc.yaml)

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
# Each seed recipe beside the modern variant with the same architecture.
PRESET_PARTNERS = {"seed000": "sum-lstm", "seed001": "mnist-lstm", "seed002": "mnist-bilstm"}


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


def plot_lengths(path: Path, curves: dict[str, dict[int, dict]], training_lengths: str) -> None:
    """One panel per metric, one line per variant, against the sequence length (log scale)."""
    figure, axes = plt.subplots(1, len(SWEEP_METRICS), figsize=(11, 4))
    for axis, (metric, label) in zip(axes, SWEEP_METRICS.items(), strict=True):
        for name, curve in curves.items():
            axis.plot(list(curve), [values[metric] for values in curve.values()], marker="o", label=name)
        axis.set(xscale="log", xlabel="sequence length (bits)", ylabel=label, title=f"sum: {label} by length")
        axis.set_xticks(list(next(iter(curves.values()))), [str(n) for n in next(iter(curves.values()))])
        axis.grid(alpha=0.3)
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=8, title=f"trained on {training_lengths}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


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


def plot_curves(path: Path, task: str, histories: dict) -> None:
    figure, axis = plt.subplots(figsize=(7, 4))
    for name, history in histories.items():
        if CURVE[task] in history:
            axis.plot(history["epoch"], history[CURVE[task]], marker=".", label=name)
    axis.set(xlabel="epoch", ylabel=f"validation {CURVE[task].removeprefix('val_')}", title=f"{task}: validation")
    if task == "sum":
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_bars(path: Path, task: str, metrics: dict) -> None:
    names = list(metrics)
    keys = BARS[task]
    figure, axis = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(keys)
    for index, key in enumerate(keys):
        values = [flatten(metrics[name]).get(key, 0.0) for name in names]
        bars = axis.bar([i + index * width for i in range(len(names))], values, width, label=key)
        axis.bar_label(bars, fmt="%.3f", fontsize=7)
    axis.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(names))], names, rotation=20)
    axis.set(ylim=(0, 1.05), title=f"{task}: test metrics")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", help="<task>-<variant> names (default: every task x params.yaml models)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, default=Path("reports/compare"))
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    models = arguments.models or [f"{task}-{variant}" for task in TASKS for variant in params.models]
    store = tracking.store_name(tracking.tracking_uri(params.mlflow))
    ui = ui_of(store)

    page = [
        "# Recurrent variants compared",
        "",
        f"Made by `dvc repro` (stage `report`). MLflow links open the runs in `make ui` ({ui}).",
    ]
    with replaced_directory(arguments.out) as folder:
        for task in TASKS:
            names = [name for name in models if name.split("-", 1)[0] == task]
            if not names:
                continue
            metrics = {name: read_json(Path(f"metrics/{name}.json")) for name in names}
            summaries = {name: read_json(Path(f"models/{name}.json")) for name in names}
            histories = {name: read_history(Path(f"plots/history/{name}.csv")) for name in names}
            plot_curves(folder / f"{task}-validation.png", task, histories)
            plot_bars(folder / f"{task}-test.png", task, metrics)
            champion = Path(f"models/champion-{task}.json")
            page += ["", f"## {task}", ""] + table(task, names, metrics, summaries, store)
            if champion.is_file():
                page += ["", champion_line(task, json.loads(champion.read_text()))]
            page += [
                "",
                f"![{task} validation curves]({task}-validation.png)",
                f"![{task} test metrics]({task}-test.png)",
            ]
            if task == "sum":
                curves = {name: length_curve(metrics[name], params.sum.length) for name in names}
                plot_lengths(folder / "sum-lengths.png", curves, trained_lengths(params))
                page += [
                    "",
                    f"How far each variant counts, trained on {trained_lengths(params)} (the length sweep):",
                    "",
                    "![sum by sequence length](sum-lengths.png)",
                ]
        presets = [name for name in params.presets if (PRESETS / name / "metrics.json").is_file()]
        page += ["", "## The seed tutorials' recipes next to the modern defaults", ""]
        if not presets:
            page.append("Not run yet: `make presets` trains them (presets/dvc.yaml).")
        for name in presets:
            partner = PRESET_PARTNERS.get(name)
            task = params.presets[name].task
            rows = {f"preset-{name}": read_json(PRESETS / name / "metrics.json")}
            summaries = {f"preset-{name}": read_json(PRESETS / name / "summary.json")}
            if partner:
                rows[partner] = read_json(Path(f"metrics/{partner}.json"))
                summaries[partner] = read_json(Path(f"models/{partner}.json"))
            page += table(task, list(rows), rows, summaries, store) + [""]
        (folder / "index.md").write_text("\n".join(page) + "\n")
    log.info("wrote %s/index.md", arguments.out)


if __name__ == "__main__":
    run_stage(main)
