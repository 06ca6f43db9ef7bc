"""Stage check (and `make check`): fail when a metric regressed against the baseline.

    python -m stages.check                                       # metrics vs params.yaml's check.baseline
    python -m stages.check --baseline baselines/ci.yaml          # workspace metrics vs the baseline
    python -m stages.check --baseline baselines/ci.yaml --rev main  # workspace vs metrics at a git revision
    python -m stages.check --baseline baselines/ci.yaml --refresh   # accept the current numbers

Prints a markdown table (model, metric, baseline, current, change, verdict) and writes it to
--report for CI to post; exits 1 on a regression beyond tolerance, a missing model or a NaN, or a
model with no baseline (unless params.yaml check.allow_new is true).
"""

import argparse
import logging
import sys
from pathlib import Path

from rnncompare import gate
from rnncompare.config import load_params
from rnncompare.errors import PipelineError, run_stage
from rnncompare.outputs import replaced_file
from rnncompare.profiles import profiles_in

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="rules and reference values (default: check.baseline)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--metrics-dir", type=Path, default=Path("metrics"))
    parser.add_argument("--rev", help="compare with the metrics committed at this git revision instead")
    parser.add_argument("--report", type=Path, help="also write the table here (markdown)")
    parser.add_argument("--refresh", action="store_true", help="rewrite the baseline from the current metrics")
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    settings = params.check
    arguments.baseline = arguments.baseline or Path(settings.baseline)
    # Every model of the pipeline is checked, and only those: a removed variant's leftovers are not.
    models = {f"{task}-{variant}" for task in ("sum", "mnist") for variant in params.models}

    rules, baseline = gate.load_baseline(arguments.baseline)
    if arguments.rev:
        baseline, current = gate.metrics_at_revision(arguments.rev)
        title = f"Metrics against {arguments.rev}"
    else:
        current = gate.current_metrics(arguments.metrics_dir)
        title = f"Metrics against {arguments.baseline}"
        refuse_stale_metrics(sorted(set(current) & models), arguments)
    baseline = {model: values for model, values in baseline.items() if model in models}
    current = {model: values for model, values in current.items() if model in models}
    if arguments.refresh:
        count = gate.refresh(arguments.baseline, current)
        log.info("%s now holds the current metrics of %d models", arguments.baseline, count)
        return
    rows = gate.compare(rules, baseline, current, settings.allow_new)
    table = gate.markdown(rows, rules, title)
    print(table)
    if arguments.report:
        arguments.report.parent.mkdir(parents=True, exist_ok=True)
        with replaced_file(arguments.report) as temporary:
            temporary.write_text(table)
    failed = [row for row in rows if row.failed]
    if failed:
        log.error(
            "%d metric(s) regressed, missing, NaN or without a baseline: %s. If the change is intended, or the "
            "models are new, refresh the baseline: make baseline (with the PROFILE that made the metrics; "
            "README, CI gate); or set check.allow_new: true in params.yaml to let new models pass.",
            len(failed),
            ", ".join(f"{row.model} {row.metric}" for row in failed[:8]),
        )
        sys.exit(1)


def refuse_stale_metrics(models: list[str], arguments: argparse.Namespace) -> None:
    """The gate and a baseline take only metrics that params.yaml and the code, as they are, give."""
    changed = gate.changed_since_run(models, arguments.metrics_dir)
    if changed:
        stage, what = next(iter(changed.items()))
        command, unchanged = ("check", ".")
        if arguments.refresh:
            command, unchanged = "baseline", f"; {arguments.baseline} is unchanged."
        profile = "".join(f" PROFILE={name}" for name in profiles_in(arguments.params))
        raise PipelineError(
            f"{arguments.metrics_dir}/ does not hold what {arguments.params} and the code give now: {len(changed)} "
            f"stage(s) behind its models changed since they ran (first {stage}: {what}; `dvc status evaluate` "
            f"lists them all). Run make repro{profile} first, then make {command}{profile} again{unchanged}"
        )


if __name__ == "__main__":
    run_stage(main)
