"""A comparison's DVC experiments: one per training seed, queued with `dvc exp run --queue
--set-param train.seed=<s>` and run by DVC's queue, everything else as params.yaml has it; then each
finished experiment's metrics, training summaries and histories read back from its commit (git and
the DVC cache)."""

import json
import logging
import subprocess
import tempfile
from pathlib import Path

from rnncompare.analysis.seed_runs import SeedRun
from rnncompare.core.errors import PipelineError
from rnncompare.core.nested import flatten
from rnncompare.experiments.dvc_experiments import dvc, experiments, git_show, params_at, untracked_files
from rnncompare.report.tables import read_history

log = logging.getLogger(__name__)


def queued_elsewhere() -> list[str]:
    """Experiments already waiting in DVC's queue: `--run-all` would run them too."""
    status = subprocess.run(["dvc", "queue", "status"], capture_output=True, text=True, check=True).stdout
    return [line.split()[1] if len(line.split()) > 1 else line for line in status.splitlines() if "Queued" in line]


def run_seeds(comparison: str, seeds: list[int], jobs: int, settings: list[str]) -> list[str]:
    """Queue one experiment per seed (with `settings`, each `key=value` for `--set-param`, for all)
    and run the queue; returns the experiments' names. The first to run builds the data; the others restore
    them from the run-cache."""
    if any(setting.split("=", 1)[0].strip() == "train.seed" for setting in settings):
        raise PipelineError("SET must not set train.seed: make compare sets it, to 0..SEEDS-1, for each experiment.")
    waiting = queued_elsewhere()
    if waiting:
        raise PipelineError(
            f"DVC's queue already holds {len(waiting)} queued experiment(s) ({', '.join(waiting)}), which "
            "`make compare` would run as well. Run them (`dvc exp run --run-all`) or drop them "
            "(`dvc queue remove --queued`), then run `make compare` again."
        )
    names = [f"{comparison}-seed{seed}" for seed in seeds]
    extra = [argument for setting in settings for argument in ("--set-param", setting)]
    extra += [argument for path in untracked_files() for argument in ("--copy-paths", path)]
    for seed, name in zip(seeds, names, strict=True):
        dvc("exp", "run", "--queue", "--name", name, "--set-param", f"train.seed={seed}", *extra)
    log.info("running %d experiments (%d at a time): %s", len(names), jobs, ", ".join(names))
    dvc("exp", "run", "--run-all", "--jobs", str(jobs))
    finished = experiment_commits(comparison)
    unfinished = [name for name in names if name not in finished]
    if unfinished:
        raise PipelineError(
            f"experiment(s) {', '.join(unfinished)} did not finish; `dvc queue logs <name>` shows why. Fix it, then "
            "run `make compare` again under a new COMPARISON name: the stages that finished come back from the "
            "run-cache, not retrained."
        )
    return names


def experiment_commits(prefix: str) -> dict[str, str]:
    """Experiment name -> commit, for every experiment named `<prefix>-seed<N>`."""
    found = [
        experiment
        for experiment in experiments()
        if experiment.name.startswith(f"{prefix}-seed") and experiment.name.removeprefix(f"{prefix}-seed").isdigit()
    ]
    baselines = {experiment.baseline[:7] for experiment in found}
    if len(baselines) > 1:
        raise PipelineError(
            f"experiments named {prefix}-seed<N> were run on {len(baselines)} commits "
            f"({', '.join(sorted(baselines))}): "
            "a comparison's seeds must share one code version. Remove the stale ones (`dvc exp remove <name>`) "
            "or run `make compare` with a new COMPARISON name."
        )
    return {experiment.name: experiment.commit for experiment in found}


def read_experiment(name: str, commit: str, models: list[str]) -> SeedRun:
    """Metrics from git; training summaries and histories from the DVC cache, as the commit's dvc.lock names them."""
    from dvc.api import DVCFileSystem

    files = DVCFileSystem(".", rev=commit)
    _, params = params_at(commit)
    metrics, summaries, histories = {}, {}, {}
    for model in models:
        metrics[model] = json.loads(git_show(commit, f"metrics/{model}.json"))
        try:
            summaries[model] = json.loads(files.read_text(f"models/{model}.json"))
            with tempfile.TemporaryDirectory() as folder:
                files.get_file(f"plots/history/{model}.csv", f"{folder}/history.csv")
                histories[model] = read_history(Path(folder) / "history.csv")
        except FileNotFoundError as error:
            raise PipelineError(
                f"experiment {name}: {error.filename or error} is not in the DVC cache; run "
                f"`dvc exp apply {name} && dvc pull` or rerun `make compare`."
            ) from None
    return SeedRun(name, params.train.seed, metrics, summaries, histories)


def differences(reference: dict, other: dict, where: str = "") -> list[str]:
    """The flattened keys where two params documents differ, besides train.seed."""
    flat_reference, flat_other = flatten(reference), flatten(other)
    keys = sorted(set(flat_reference) | set(flat_other) - {"train.seed"})
    return [key for key in keys if key != "train.seed" and flat_reference.get(key) != flat_other.get(key)]


def collect(prefix: str, models: list[str]) -> list[SeedRun]:
    commits = experiment_commits(prefix)
    if len(commits) < 2:
        raise PipelineError(
            f"found {len(commits)} finished experiment(s) named {prefix}-seed<N>; a comparison needs at least 2 "
            "seeds. To read a finished comparison again, name it: `make compare COMPARISON=<name> COLLECT=1` "
            "(`dvc exp list` lists the experiments, <name>-seed<N>); to run one: `make compare SEEDS=5`."
        )
    documents = {name: params_at(commit)[0] for name, commit in commits.items()}
    first = next(iter(documents))
    for name, document in documents.items():
        changed = differences(documents[first], document)
        if changed:
            raise PipelineError(
                f"experiments {first} and {name} differ in {', '.join(changed)}, not only in train.seed: "
                "a comparison varies the seed alone. Rerun `make compare` with one set of params."
            )
    runs = [read_experiment(name, commit, models) for name, commit in commits.items()]
    seeds = [run.seed for run in runs]
    if len(set(seeds)) != len(seeds):
        raise PipelineError(f"experiments {prefix}-seed<N> repeat a seed ({seeds}); each seed must appear once.")
    return sorted(runs, key=lambda run: run.seed)
