"""The regression gate (`make check`, `make baseline`): fail when a metric regressed against the baseline.

    rnncompare check                                   # workspace metrics vs params.yaml's check.baseline
    rnncompare check --profile ci                      # the newest run of profile ci vs its check.baseline
    rnncompare check --rev main                        # workspace metrics vs those committed at a revision
    rnncompare check --profile ci --refresh            # accept that run's numbers as the baseline

Prints a markdown table (model, metric, baseline, current, change, verdict) and writes it to
--report for CI to post; exits 1 on a regression beyond tolerance, a missing model or a NaN, or a
model with no baseline (unless check.allow_new is true). Only metrics that the code and params as
they are now give are taken: a stale run is refused, and so is a baseline refresh from one.
"""

import argparse
import logging
import sys
from pathlib import Path

from rnncompare.analysis import gate
from rnncompare.config.params import Params, load_params
from rnncompare.core.errors import PipelineError, run_stage
from rnncompare.core.outputs import replaced_file
from rnncompare.experiments import profile_runs, profiles
from rnncompare.report.tables import TASKS

log = logging.getLogger(__name__)


def models_of(params: Params) -> set[str]:
    """Every model of the pipeline, and only those: a removed variant's leftovers are not checked."""
    return {f"{task}-{variant}" for task in TASKS for variant in params.models}


def profile_metrics(name: str, params_path: Path) -> tuple[Params, dict, str]:
    """The params, metrics and title of the newest fresh run of a profile."""
    profile, settings = profiles.settings_of(name, params_path)
    params = profiles.validated(params_path, settings, f"profile {profile.name} ({profile.path})")
    experiment = profile_runs.newest(profile, params_path, settings)
    current = profile_runs.metrics_of(experiment, sorted(models_of(params)))
    return params, current, f"Metrics of {experiment.name} (profile {name})"


def workspace_metrics(params: Params, arguments: argparse.Namespace) -> tuple[dict, str]:
    current = gate.current_metrics(arguments.metrics_dir)
    refuse_stale_metrics(sorted(set(current) & models_of(params)), arguments)
    return current, "Metrics"


def refuse_stale_metrics(models: list[str], arguments: argparse.Namespace) -> None:
    """The gate and a baseline take only metrics that params.yaml and the code, as they are, give."""
    changed = gate.changed_since_run(models, arguments.metrics_dir)
    if changed:
        stage, what = next(iter(changed.items()))
        command, unchanged = ("check", ".")
        if arguments.refresh:
            command, unchanged = "baseline", f"; {arguments.baseline} is unchanged."
        raise PipelineError(
            f"{arguments.metrics_dir}/ does not hold what {arguments.params} and the code give now: {len(changed)} "
            f"stage(s) behind its models changed since they ran (first {stage}: {what}; `dvc status evaluate` "
            f"lists them all). Run make repro first, then make {command} again{unchanged}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="gate the newest run of this profile (make repro PROFILE=...)")
    parser.add_argument("--baseline", type=Path, help="rules and reference values (default: check.baseline)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--metrics-dir", type=Path, default=Path("metrics"))
    parser.add_argument("--rev", help="compare with the metrics committed at this git revision instead")
    parser.add_argument("--report", type=Path, help="also write the table here (markdown)")
    parser.add_argument("--refresh", action="store_true", help="rewrite the baseline from the current metrics")
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    if arguments.profile:
        params, current, title = profile_metrics(arguments.profile, arguments.params)
    arguments.baseline = arguments.baseline or Path(params.check.baseline)
    rules, baseline = gate.load_baseline(arguments.baseline)
    if arguments.rev:
        baseline, current = gate.metrics_at_revision(arguments.rev)
        title = f"Metrics against {arguments.rev}"
    elif not arguments.profile:
        current, title = workspace_metrics(params, arguments)
    models = models_of(params)
    baseline = {model: values for model, values in baseline.items() if model in models}
    current = {model: values for model, values in current.items() if model in models}
    if arguments.refresh:
        count = gate.refresh(arguments.baseline, current)
        log.info("%s now holds the current metrics of %d models", arguments.baseline, count)
        return
    rows = gate.compare(rules, baseline, current, params.check.allow_new)
    table = gate.markdown(rows, rules, title if arguments.rev else f"{title} against {arguments.baseline}")
    print(table)
    if arguments.report:
        arguments.report.parent.mkdir(parents=True, exist_ok=True)
        with replaced_file(arguments.report) as temporary:
            temporary.write_text(table)
    failed = [row for row in rows if row.failed]
    if failed:
        profile = f" PROFILE={arguments.profile}" if arguments.profile else ""
        log.error(
            "%d metric(s) regressed, missing, NaN or without a baseline: %s. If the change is intended, or the "
            "models are new, refresh the baseline: make baseline%s; or set check.allow_new: true in params.yaml "
            "to let new models pass.",
            len(failed),
            ", ".join(f"{row.model} {row.metric}" for row in failed[:8]),
            profile,
        )
        sys.exit(1)


if __name__ == "__main__":
    run_stage(main)
