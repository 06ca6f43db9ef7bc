"""Stage register@<task>: register the task's best model in MLflow and give it the alias `champion`.

The best is chosen among the task's variants by params.yaml's `mlflow.champion.<task>` metric
(a key of metrics/<task>-<variant>.json, e.g. `test.accuracy`, and a direction, max or min).
Writes models/champion-<task>.json: the registered name, version, variant, metric and URIs.
"""

import argparse
import json
import logging
import math
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from rnncompare import tracking
from rnncompare.config import load_params
from rnncompare.errors import PipelineError, run_stage
from rnncompare.nested import numbers
from rnncompare.outputs import write_json

log = logging.getLogger(__name__)
ALIAS = "champion"


def metric_of(metrics_path: Path, key: str) -> float:
    values = numbers(json.loads(metrics_path.read_text()))
    if key not in values or math.isnan(values[key]):
        raise PipelineError(
            f"{metrics_path} has no number at '{key}'; set params.yaml mlflow.champion to one of: "
            + ", ".join(list(values)[:20])
        )
    return values[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["sum", "mnist"], required=True)
    parser.add_argument("--variants", nargs="+", required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--metrics-dir", type=Path, default=Path("metrics"), help="holds <task>-<variant>.json")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="holds the training summaries")
    parser.add_argument("--out", type=Path, required=True, help="the champion's description (.json) to write")
    arguments = parser.parse_args()
    settings = load_params(arguments.params).mlflow
    tracking.connect(settings)
    choice = settings.champion_of(arguments.task)
    scores = {
        variant: metric_of(arguments.metrics_dir / f"{arguments.task}-{variant}.json", choice.metric)
        for variant in arguments.variants
    }
    best = (max if choice.direction == "max" else min)(scores, key=scores.__getitem__)
    summary = json.loads((arguments.models_dir / f"{arguments.task}-{best}.json").read_text())
    name = f"{settings.model_prefix}-{arguments.task}"
    version = mlflow.register_model(summary["mlflow_model_uri"], name)
    client = MlflowClient()
    client.update_registered_model(
        name, description=f"The best {arguments.task} model of the pipeline by {choice.metric}."
    )
    client.set_registered_model_alias(name, ALIAS, version.version)
    client.set_model_version_tag(name, version.version, choice.metric, str(scores[best]))
    client.set_model_version_tag(name, version.version, "variant", best)
    champion = {
        "task": arguments.task,
        "variant": best,
        "metric": choice.metric,
        "value": scores[best],
        "candidates": scores,
        "registered_model": name,
        "version": int(version.version),
        "uri": f"models:/{name}@{ALIAS}",
        "mlflow_run_id": summary["mlflow_run_id"],
    }
    write_json(arguments.out, champion)
    log.info(
        "%s: %s (%s %.4f) is version %s, alias %s", name, best, choice.metric, scores[best], version.version, ALIAS
    )


if __name__ == "__main__":
    run_stage(main)
