"""Stage register@<task>: register the task's best model of this run in MLflow, and move the
alias `champion` to it only if it beats the current champion (rnncompare/champion.py).

The best is chosen among the task's variants by params.yaml's `mlflow.champion.<task>` (a key of
metrics/<task>-<variant>.json, e.g. `test.accuracy`, and a direction, max or min). Writes
models/champion-<task>.json: the registry's champion after this stage, and what became of this
run's best model (its version, whether it was promoted and why).

    python -m stages.register --task sum --promote 3 --out models/champion-sum.json   # by hand
"""

import argparse
import json
import logging
import math
import os
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from rnncompare import champion, lineage, tracking
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


def standing(client: MlflowClient, name: str, version, metric: str) -> champion.Standing:
    tags = client.get_model_version(name, str(version)).tags
    value = tags.get(metric)
    return champion.Standing(int(version), float(value) if value is not None else None, tags.get(champion.DIGEST_TAG))


def current_champion(client: MlflowClient, name: str) -> int | None:
    try:
        return int(client.get_model_version_by_alias(name, ALIAS).version)
    except MlflowException:  # no registered model, or no alias yet
        return None


def version_of_run(client: MlflowClient, name: str, model_uri: str, run_id: str, tags: dict) -> int:
    """The registered version of this run's model: the existing one (a rerun), else a new one."""
    existing = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if existing:
        return int(existing[0].version)
    version = int(mlflow.register_model(model_uri, name, tags=tags).version)
    return version


def describe(client: MlflowClient, name: str, version: int | None) -> dict:
    """The champion's entry of models/champion-<task>.json, as the registry records it."""
    if version is None:
        return {"version": None}
    found = client.get_model_version(name, str(version))
    return {"version": version, "variant": found.tags.get("variant"), "mlflow_run_id": found.run_id, **found.tags}


def write_champion(out: Path, task: str, name: str, metric: str, client: MlflowClient, this_run: dict) -> dict:
    version = current_champion(client, name)
    entry = describe(client, name, version)
    document = {
        "task": task,
        "registered_model": name,
        "uri": f"models:/{name}@{ALIAS}",
        "metric": metric,
        "version": version,
        "variant": entry.get("variant"),
        "value": float(entry[metric]) if metric in entry else None,
        "mlflow_run_id": entry.get("mlflow_run_id"),
        champion.DIGEST_TAG: entry.get(champion.DIGEST_TAG),
        "this_run": this_run,
    }
    write_json(out, document)
    return document


def register(task: str, variants: list[str], data_dir: Path, metrics_dir: Path, models_dir: Path, settings) -> dict:
    """Register this run's best model; promote it by the champion rule. Returns `this_run`."""
    choice = settings.champion_of(task)
    scores = {variant: metric_of(metrics_dir / f"{task}-{variant}.json", choice.metric) for variant in variants}
    best = (max if choice.direction == "max" else min)(scores, key=scores.__getitem__)
    summary_path = models_dir / f"{task}-{best}.json"
    summary = json.loads(summary_path.read_text())
    name = f"{settings.model_prefix}-{task}"
    elsewhere = tracking.run_elsewhere(summary, summary_path)
    if elsewhere:
        log.warning("%s: %s not registered: %s.", name, best, elsewhere)
        reason = f"not registered: {elsewhere}"
        return {"variant": best, "version": None, "value": scores[best], "candidates": scores, "promoted": False,
                "reason": reason, "mlflow_run_id": summary.get("mlflow_run_id")}  # fmt: skip
    digest = champion.digest_of_test_data(data_dir)
    client = MlflowClient()
    experiment = os.environ.get(lineage.EXPERIMENT_VARIABLE, "")
    tags = {
        "variant": best,
        choice.metric: str(scores[best]),
        champion.DIGEST_TAG: digest,
        "git.commit": lineage.git_state()["git.commit"],
        **({"dvc.experiment": experiment} if experiment else {}),
    }
    version = version_of_run(client, name, summary["mlflow_model_uri"], summary["mlflow_run_id"], tags)
    if not client.get_registered_model(name).description:  # register_model made it: no "already exists" at first
        client.update_registered_model(name, description=f"The best {task} model of the pipeline by {choice.metric}.")
    held = current_champion(client, name)
    candidate = champion.Standing(version, scores[best], digest)
    incumbent = standing(client, name, held, choice.metric) if held is not None else None
    promote, reason = champion.decide(candidate, incumbent, choice.metric, choice.direction, task)
    if promote:
        client.set_registered_model_alias(name, ALIAS, str(version))
    if champion.DECISION_TAG not in client.get_model_version(name, str(version)).tags:  # a rerun keeps the first
        client.set_model_version_tag(name, str(version), champion.DECISION_TAG, reason)
    log.info("%s: %s version %d %s: %s", name, best, version, "promoted" if promote else "not promoted", reason)
    return {
        "variant": best,
        "version": version,
        "value": scores[best],
        "candidates": scores,
        "promoted": promote,
        "reason": reason,
        "mlflow_run_id": summary["mlflow_run_id"],
        **({"dvc.experiment": experiment} if experiment else {}),
    }


def promote_by_hand(task: str, version: int, settings) -> dict:
    name = f"{settings.model_prefix}-{task}"
    client = MlflowClient()
    try:
        client.get_model_version(name, str(version))
    except MlflowException:
        raise PipelineError(
            f"{name} has no version {version} in {mlflow.get_tracking_uri()}; see its versions in `make ui`."
        ) from None
    client.set_registered_model_alias(name, ALIAS, str(version))
    reason = "promoted by hand (make promote)"
    client.set_model_version_tag(name, str(version), champion.DECISION_TAG, reason)
    log.info("%s: alias %s moved to version %d by hand", name, ALIAS, version)
    return {"version": version, "promoted": True, "reason": reason}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["sum", "mnist"], required=True)
    parser.add_argument("--variants", nargs="+", help="the variants to choose from (default: params.yaml models)")
    parser.add_argument("--promote", type=int, metavar="VERSION", help="instead: move the alias to this version")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data", type=Path, help="the task's data directory (its test files' digest)")
    parser.add_argument("--metrics-dir", type=Path, default=Path("metrics"), help="holds <task>-<variant>.json")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="holds the training summaries")
    parser.add_argument("--out", type=Path, required=True, help="the champion's description (.json) to write")
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    settings = params.mlflow
    tracking.connect(settings)
    if arguments.promote is not None:
        this_run = promote_by_hand(arguments.task, arguments.promote, settings)
    else:
        if not arguments.data:
            parser.error("give --data, or --promote VERSION")
        this_run = register(
            arguments.task,
            arguments.variants or list(params.models),
            arguments.data,
            arguments.metrics_dir,
            arguments.models_dir,
            settings,
        )
    metric = settings.champion_of(arguments.task).metric
    name = f"{settings.model_prefix}-{arguments.task}"
    write_champion(arguments.out, arguments.task, name, metric, MlflowClient(), this_run)


if __name__ == "__main__":
    run_stage(main)
