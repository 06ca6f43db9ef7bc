"""Every task x variant trained under N training seeds, with statistics (`make compare`).

    rnncompare compare --seeds 5 --name seeds-a --profile mnist-mini
    rnncompare compare --name seeds-a --collect-only       # rewrite the page from the finished experiments

One DVC experiment per seed (`<name>-seed<N>`, through DVC's queue), everything else the same: the
data, MNIST's validation split (train.split_seed), the recipe. The page lands in reports/seeds/
(reports/seeds-<profile>/ with a profile): per task, variant and metric the mean and 95% interval,
the paired significance tables, the ranking in words, and plots; in MLflow each run is tagged with
the comparison and one summary run per task records the means and intervals.
"""

import argparse
import logging
from pathlib import Path

from rnncompare.analysis.seed_report import write_page
from rnncompare.config.params import load_params
from rnncompare.core.errors import run_stage
from rnncompare.experiments import profiles
from rnncompare.experiments.comparison_tags import tag_mlflow_runs
from rnncompare.experiments.dvc_experiments import params_at
from rnncompare.experiments.seeds import collect, experiment_commits, run_seeds
from rnncompare.report.tables import TASKS

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="train seeds 0..N-1")
    parser.add_argument("--jobs", type=int, default=1, help="experiments run at once by DVC's queue")
    parser.add_argument("--name", required=True, help="the comparison's name: experiments <name>-seed<N>")
    parser.add_argument("--profile", help="a profile of profiles/, for every seed")
    parser.add_argument(
        "--collect-only", action="store_true", help="do not run: read the finished experiments named <name>-seed<N>"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="for every seed (dvc exp run --set-param)"
    )
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, help="default: reports/seeds, or reports/seeds-<profile>")
    arguments = parser.parse_args()
    if arguments.seeds < 2:
        parser.error("--seeds must be at least 2: one seed has no spread")
    params = load_params(arguments.params)
    _, settings = profiles.settings_of(arguments.profile, arguments.params)
    settings += arguments.set
    out = arguments.out or Path("reports") / ("seeds" + (f"-{arguments.profile}" if arguments.profile else ""))
    again = f"make compare COMPARISON={arguments.name} COLLECT=1" + (
        f" PROFILE={arguments.profile}" if arguments.profile else ""
    )
    log.info("comparison %s: `%s` rewrites its page", arguments.name, again)
    if not arguments.collect_only:
        params = profiles.validated(arguments.params, settings, "the comparison's settings") if settings else params
        run_seeds(arguments.name, list(range(arguments.seeds)), arguments.jobs, settings)
    models = [f"{task}-{variant}" for task in TASKS for variant in params.models]
    runs = collect(arguments.name, models)
    _, params = params_at(experiment_commits(arguments.name)[runs[0].experiment])  # as the experiments ran
    records = write_page(arguments.name, runs, models, params, out)
    tag_mlflow_runs(params, arguments.name, runs, records, out)
    log.info("wrote %s/index.md", out)


if __name__ == "__main__":
    run_stage(main)
