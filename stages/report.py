"""Stage report: one markdown page comparing every variant on each task, with PNG plots.

reports/compare/index.md holds, per task, a table of final test metrics, parameter counts,
training time, device and a link to each model's MLflow run, and the tutorials' recipes next to
the modern defaults (when `make tutorials` has run them); beside it <task>-validation.png
(validation curves of all variants), <task>-test.png (a bar chart of the headline test metrics)
and sum-lengths.png (how far each variant counts: the sum length sweep). One run per variant:
`make compare` repeats them over seeds, with statistics.
"""

import argparse
from pathlib import Path

from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.report.page import write_report
from rnncompare.report.tables import TASKS
from rnncompare.tracking.store import store_name, tracking_uri


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", help="<task>-<variant> names (default: every task x params.yaml models)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, default=Path("reports/compare"))
    arguments = parser.parse_args()
    params = load_params(arguments.params)
    models = arguments.models or [f"{task}-{variant}" for task in TASKS for variant in params.models]
    write_report(params, models, store_name(tracking_uri(params.mlflow)), arguments.out)


if __name__ == "__main__":
    run_stage(main)
