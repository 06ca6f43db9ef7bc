"""The MLflow model registry: each task's best model of a run registered as a version of
<model_prefix>-<task>, the alias `champion` moved to it by the champion rule (champion.py) or by
hand, and the description of the champion the register stage writes (models/champion-<task>.json)."""

import json
import logging
import math
import os
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from rnncompare.config.params import MlflowParams
from rnncompare.core.errors import PipelineError
from rnncompare.core.nested import numbers
from rnncompare.core.outputs import write_json
from rnncompare.core.repository import EXPERIMENT_VARIABLE
from rnncompare.tracking import champion, lineage
from rnncompare.tracking.store import run_elsewhere

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


def write_champion(out: Path, task: str, settings: MlflowParams, this_run: dict) -> dict:
    """models/champion-<task>.json: the registry's champion now, and what became of this run's best."""
    client = MlflowClient()
    name = f"{settings.model_prefix}-{task}"
    metric = settings.champion_of(task).metric
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


def register(
    task: str, variants: list[str], data_dir: Path, metrics_dir: Path, models_dir: Path, settings: MlflowParams
) -> dict:
    """Register this run's best model; promote it by the champion rule. Returns `this_run`."""
    choice = settings.champion_of(task)
    scores = {variant: metric_of(metrics_dir / f"{task}-{variant}.json", choice.metric) for variant in variants}
    best = (max if choice.direction == "max" else min)(scores, key=scores.__getitem__)
    summary_path = models_dir / f"{task}-{best}.json"
    summary = json.loads(summary_path.read_text())
    name = f"{settings.model_prefix}-{task}"
    elsewhere = run_elsewhere(summary, summary_path)
    if elsewhere:
        log.warning("%s: %s not registered: %s.", name, best, elsewhere)
        reason = f"not registered: {elsewhere}"
        return {"variant": best, "version": None, "value": scores[best], "candidates": scores, "promoted": False,
                "reason": reason, "mlflow_run_id": summary.get("mlflow_run_id")}  # fmt: skip
    digest = champion.digest_of_test_data(data_dir)
    client = MlflowClient()
    experiment = os.environ.get(EXPERIMENT_VARIABLE, "")
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


def promote_by_hand(task: str, version: int, settings: MlflowParams) -> dict:
    name = f"{settings.model_prefix}-{task}"
    client = MlflowClient()
    try:
        client.get_model_version(name, str(version))
    except MlflowException:
        raise PipelineError(
            f"{name} has no version {version} in {mlflow.get_tracking_uri()}; see its versions in `make ui`."
        ) from None
    try:
        held = int(client.get_model_version_by_alias(name, ALIAS).version)
    except MlflowException:
        held = None
    client.set_registered_model_alias(name, ALIAS, str(version))
    reason = "promoted by hand (make promote)"
    client.set_model_version_tag(name, str(version), champion.DECISION_TAG, reason)
    if held == version:
        log.info("%s: alias %s already at version %d; nothing moved", name, ALIAS, version)
    else:
        log.info("%s: alias %s moved to version %d by hand", name, ALIAS, version)
    return {"version": version, "promoted": True, "reason": reason}
