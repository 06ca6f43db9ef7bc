"""A comparison in MLflow: every seed's run tagged with it, and one summary run per task holding the
means and intervals and the page (in the UI, filter on `tags.comparison = '<name>'`)."""

import logging
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from rnncompare.analysis.seed_runs import SeedRun
from rnncompare.config.params import Params
from rnncompare.tracking import store as tracking

log = logging.getLogger(__name__)


def tag_mlflow_runs(params: Params, comparison: str, runs: list[SeedRun], records: dict, folder: Path) -> None:
    """Tag every seed's run with the comparison, and record one summary run per task holding the
    means and intervals and the page: in the UI, filter on `tags.comparison = '<name>'`."""
    tracking.connect(params.mlflow)
    client = MlflowClient()
    store = tracking.store_name(mlflow.get_tracking_uri())
    skipped = 0
    for run in runs:
        for summary in run.summaries.values():
            if not summary.get("mlflow_run_id") or summary.get("mlflow_tracking_uri", store) != store:
                skipped += 1
                continue
            # A run restored from the run-cache may belong to several comparisons: one key each.
            client.set_tag(summary["mlflow_run_id"], f"comparison.{comparison}", str(run.seed))
            client.set_tag(summary["mlflow_run_id"], "comparison", comparison)  # the latest, to group by
            client.set_tag(summary["mlflow_run_id"], "comparison.seed", str(run.seed))
    if skipped:
        log.warning("%d seed runs were recorded in another store; they are not tagged here", skipped)
    for task, record in records.items():
        experiment = tracking.experiment_id(f"{params.mlflow.experiment_prefix}-{task}")
        earlier = f"tags.comparison = '{comparison}' and tags.`comparison.summary` = 'true'"
        stale = client.search_runs([experiment], filter_string=earlier)
        tags = {"comparison": comparison, "comparison.summary": "true", "comparison.seeds": str(len(runs))}
        with mlflow.start_run(experiment_id=experiment, run_name=f"{comparison} (seed statistics)", tags=tags):
            flat = {}
            for model, statistics in record["statistics"].items():
                variant = model.split("-", 1)[1]
                for metric, summary in statistics.items():
                    for field in ("mean", "std", "low", "high"):
                        if summary[field] is not None:
                            flat[f"{variant}.{metric}.{field}"] = summary[field]
            mlflow.log_metrics(flat)
            mlflow.log_artifacts(str(folder), "report")
        for run in stale:  # a re-collect replaces the summary, once the new one is recorded
            client.delete_run(run.info.run_id)
