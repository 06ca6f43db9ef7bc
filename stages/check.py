"""Stage check (and `make check`): fail when a metric regressed against the baseline.

    python -m stages.check --baseline baselines/ci.yaml          # workspace metrics vs the baseline
    python -m stages.check --baseline baselines/ci.yaml --rev main  # workspace vs metrics at a git revision
    python -m stages.check --baseline baselines/ci.yaml --refresh   # accept the current numbers

Prints a markdown table (model, metric, baseline, current, change, verdict) and writes it to
--report for CI to post; exits 1 on a regression beyond tolerance, a missing model or a NaN.
"""

import argparse
import logging
import sys
from pathlib import Path

from rnncompare import gate
from rnncompare.errors import run_stage
from rnncompare.outputs import replaced_file

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="rules and reference values (.yaml)")
    parser.add_argument("--metrics-dir", type=Path, default=Path("metrics"))
    parser.add_argument("--rev", help="compare with the metrics committed at this git revision instead")
    parser.add_argument("--report", type=Path, help="also write the table here (markdown)")
    parser.add_argument("--refresh", action="store_true", help="rewrite the baseline from the current metrics")
    arguments = parser.parse_args()

    rules, baseline = gate.load_baseline(arguments.baseline)
    if arguments.rev:
        baseline, current = gate.metrics_at_revision(arguments.rev)
        title = f"Metrics against {arguments.rev}"
    else:
        current = gate.current_metrics(arguments.metrics_dir)
        title = f"Metrics against {arguments.baseline}"
    if arguments.refresh:
        count = gate.refresh(arguments.baseline, current)
        log.info("%s now holds the current metrics of %d models", arguments.baseline, count)
        return
    rows = gate.compare(rules, baseline, current)
    table = gate.markdown(rows, rules, title)
    print(table)
    if arguments.report:
        arguments.report.parent.mkdir(parents=True, exist_ok=True)
        with replaced_file(arguments.report) as temporary:
            temporary.write_text(table)
    failed = [row for row in rows if row.failed]
    if failed:
        log.error(
            "%d metric(s) regressed, missing or NaN: %s. If the change is intended, refresh the baseline: "
            "make baseline (with the PROFILE that made the metrics; README, CI gate).",
            len(failed),
            ", ".join(f"{row.model} {row.metric}" for row in failed[:8]),
        )
        sys.exit(1)


if __name__ == "__main__":
    run_stage(main)
