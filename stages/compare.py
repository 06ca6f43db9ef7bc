"""make compare: every task x variant trained under N training seeds, with statistics.

One DVC experiment per seed (`dvc exp run --queue --set-param train.seed=<s>`, then the queue),
everything else as params.yaml has it: the data, MNIST's validation split (train.split_seed), the
recipe. Each experiment's metrics, training summaries and histories are read back from its commit
(git and the DVC cache); its MLflow runs are tagged with the comparison, and one summary run per
task records the means and intervals. The page lands in reports/seeds/index.md: per task, variant
and metric the mean, standard deviation and 95% interval, parameters and training time, the paired
significance tables, the ranking in words, and plots. Not a pipeline stage (as `make check` is not):
it runs the pipeline N times.
"""

import argparse
import json
import logging
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from rnncompare.config import Params, load_params  # noqa: E402
from rnncompare.errors import PipelineError, run_stage  # noqa: E402
from rnncompare.nested import flatten, numbers  # noqa: E402
from rnncompare.outputs import replaced_directory, write_json  # noqa: E402
from rnncompare.profiles import profiles_in  # noqa: E402
from rnncompare.statistics import CONFIDENCE, compare_pairs, ranking, summarize  # noqa: E402
from stages.report import COLUMNS, CURVE, TASKS, length_curve, read_history, trained_lengths  # noqa: E402

log = logging.getLogger(__name__)

# The metrics whose pairwise differences are tested, per task.
TESTED = {"sum": ["test.mae", "test_20bits.mae"], "mnist": ["test.accuracy", "test.loss"]}
LOWER_IS_BETTER = ("mae", "mse", "loss")


def higher_is_better(metric: str) -> bool:
    return not metric.endswith(LOWER_IS_BETTER)


def limits(metric: str) -> tuple[float, float]:
    """The values a metric can take: shares lie in [0, 1], errors and losses are never negative."""
    if metric.endswith("accuracy") or ".within_" in metric or ".per_class_accuracy." in metric:
        return (0.0, 1.0)
    return (0.0, np.inf) if metric.endswith(LOWER_IS_BETTER) else (-np.inf, np.inf)


@dataclass(frozen=True)
class SeedRun:
    """One experiment of a comparison: its seed and, per model (`<task>-<variant>`), what it produced."""

    experiment: str
    seed: int
    metrics: dict[str, dict]
    summaries: dict[str, dict]
    histories: dict[str, dict[str, list[float]]]


def dvc(*arguments: str) -> None:
    """Run dvc with its output streaming to the terminal (the queue's progress)."""
    completed = subprocess.run(["dvc", *arguments])
    if completed.returncode:
        raise PipelineError(f"`dvc {' '.join(arguments)}` failed (exit {completed.returncode}); its output is above.")


def queued_elsewhere() -> list[str]:
    """Experiments already waiting in DVC's queue: `--run-all` would run them too."""
    status = subprocess.run(["dvc", "queue", "status"], capture_output=True, text=True, check=True).stdout
    return [line.split()[1] if len(line.split()) > 1 else line for line in status.splitlines() if "Queued" in line]


def run_seeds(comparison: str, seeds: list[int], jobs: int, settings: list[str]) -> list[str]:
    """Queue one experiment per seed (with `settings`, each `key=value`, for all) and run the queue;
    returns the experiments' names."""
    if any(setting.split("=", 1)[0].strip() == "train.seed" for setting in settings):
        raise PipelineError("SET must not set train.seed: make compare sets it, to 0..SEEDS-1, for each experiment.")
    waiting = queued_elsewhere()
    if waiting:
        raise PipelineError(
            f"DVC's queue already holds {len(waiting)} queued experiment(s) ({', '.join(waiting)}), which "
            "`make compare` would run as well. Run them (`dvc exp run --run-all`) or drop them "
            "(`dvc queue remove --queued`), then run `make compare` again."
        )
    # The data first, here: queued runs work in copies under .dvc/tmp/exps, where a relative source
    # (../shared) would not resolve; with the data stages in the run-cache, every seed restores them.
    dvc("repro", "generate_sum", "fetch_mnist")
    names = [f"{comparison}-seed{seed}" for seed in seeds]
    extra = [argument for setting in settings for argument in ("--set-param", setting)]
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
    """Experiment name -> commit, for every experiment named `<prefix>-seed<N>` (DVC's refs/exps)."""
    listing = subprocess.run(
        ["git", "for-each-ref", "--sort=creatordate", "--format=%(refname) %(objectname)", "refs/exps"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commits, baselines = {}, set()
    for line in listing.splitlines():
        reference, commit = line.split()
        parts = reference.split("/")  # refs/exps/<baseline[:2]>/<baseline[2:]>/<name>
        name = parts[-1]
        if name.startswith(f"{prefix}-seed") and name.removeprefix(f"{prefix}-seed").isdigit():
            commits[name] = commit
            baselines.add("".join(parts[2:4])[:7])
    if len(baselines) > 1:
        raise PipelineError(
            f"experiments named {prefix}-seed<N> were run on {len(baselines)} commits "
            f"({', '.join(sorted(baselines))}): "
            "a comparison's seeds must share one code version. Remove the stale ones (`dvc exp remove <name>`) "
            "or run `make compare` with a new COMPARISON name."
        )
    return commits


def git_show(commit: str, path: str) -> str:
    shown = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True)
    if shown.returncode:
        raise PipelineError(f"experiment commit {commit[:7]} has no {path}: did its `dvc exp run` finish?")
    return shown.stdout


def params_at(commit: str) -> tuple[dict, Params]:
    text = git_show(commit, "params.yaml")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        handle.write(text)
        handle.flush()
        return yaml.safe_load(text), load_params(Path(handle.name))


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


# ---- statistics and the page


def best_validation(task: str, history: dict[str, list[float]]) -> dict[str, float]:
    """The validation curve's best value (MNIST: highest accuracy; sum: lowest loss): what a recipe
    is chosen by, never the test set."""
    curve = history.get(CURVE[task], [])
    if not curve:
        return {}
    return {f"validation.best_{CURVE[task].removeprefix('val_')}": max(curve) if task == "mnist" else min(curve)}


def samples(runs: list[SeedRun], model: str) -> dict[str, list[float]]:
    """Metric -> its value at every seed (seed order), for the numeric metrics every seed has, and
    the best validation value of each seed's training."""
    task = model.split("-", 1)[0]
    per_seed = [
        {k: v for k, v in numbers(run.metrics[model]).items() if ".per_class_accuracy." not in k}
        | best_validation(task, run.histories[model])
        for run in runs
    ]
    common = set.intersection(*(set(values) for values in per_seed))
    return {metric: [values[metric] for values in per_seed] for metric in sorted(common)}


def interval(summary, digits: int = 4) -> str:
    if summary.low is None:
        return f"{summary.mean:.{digits}f}"
    return f"{summary.mean:.{digits}f} [{summary.low:.{digits}f}, {summary.high:.{digits}f}]"


def plot_error_bars(path: Path, task: str, statistics: dict, values: dict, metrics: list[str]) -> None:
    """Each metric's mean and 95% interval per variant, with every seed's value as a dot."""
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for axis, metric in zip(axes[0], metrics, strict=True):
        names = [name for name in statistics if metric in statistics[name]]
        for index, name in enumerate(names):
            summary = statistics[name][metric]
            low, high = (summary.low, summary.high) if summary.low is not None else (summary.mean, summary.mean)
            axis.errorbar(index, summary.mean, yerr=[[summary.mean - low], [high - summary.mean]], fmt="o",
                          capsize=6, color="C0")  # fmt: skip
            seeds = values[name][metric]
            axis.scatter(index + np.linspace(-0.15, 0.15, len(seeds)), seeds, s=12, color="C1", alpha=0.7, zorder=3)
        axis.set_xticks(range(len(names)), [name.split("-", 1)[1] for name in names], rotation=20)
        axis.set(title=f"{task}: {metric}", ylabel="mean, 95% interval; dots: seeds")
        axis.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_validation_bands(path: Path, task: str, runs: list[SeedRun], models: list[str]) -> None:
    """The validation curve's mean over seeds, with a band of one standard deviation (over the seeds
    that were still training at that epoch: early stopping ends some sooner)."""
    key = CURVE[task]
    figure, axis = plt.subplots(figsize=(7, 4))
    for index, model in enumerate(models):
        curves = [run.histories[model].get(key, []) for run in runs]
        longest = max(len(curve) for curve in curves)
        epochs = np.arange(1, longest + 1)
        stacked = np.full((len(curves), longest), np.nan)
        for row, curve in enumerate(curves):
            stacked[row, : len(curve)] = curve
        mean, spread = np.nanmean(stacked, axis=0), np.nanstd(stacked, axis=0)
        axis.plot(epochs, mean, color=f"C{index}", marker="." if longest < 10 else None, label=model.split("-", 1)[1])
        axis.fill_between(epochs, mean - spread, mean + spread, color=f"C{index}", alpha=0.2)
    axis.set(xlabel="epoch", ylabel=f"validation {key.removeprefix('val_')}", title=f"{task}: validation, mean ± sd")
    if task == "sum":
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def sweep_statistics(runs: list[SeedRun], model: str, training_length: int) -> dict[int, dict]:
    """Length -> {metric: Summary over seeds} for a sum model's length sweep."""
    curves = [length_curve(run.metrics[model], training_length) for run in runs]
    return {
        length: {
            metric: summarize([curve[length][metric] for curve in curves], limits(metric))
            for metric in ("rounded_accuracy", "mae")
        }
        for length in curves[0]
    }


def plot_sweep(path: Path, sweeps: dict[str, dict[int, dict]], trained: str) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, metric, label in zip(axes, ("rounded_accuracy", "mae"), ("rounded accuracy", "mean absolute error"),
                                   strict=True):  # fmt: skip
        for name, sweep in sweeps.items():
            lengths = list(sweep)
            means = np.array([sweep[n][metric].mean for n in lengths])
            lows = np.array([sweep[n][metric].low if sweep[n][metric].low is not None else sweep[n][metric].mean
                             for n in lengths])  # fmt: skip
            highs = np.array([sweep[n][metric].high if sweep[n][metric].high is not None else sweep[n][metric].mean
                              for n in lengths])  # fmt: skip
            axis.errorbar(lengths, means, yerr=[means - lows, highs - means], marker="o", capsize=4,
                          label=name.split("-", 1)[1])  # fmt: skip
        axis.set(xscale="log", xlabel="sequence length (bits)", ylabel=label, title=f"sum: {label} by length")
        ticks = list(next(iter(sweeps.values())))
        axis.set_xticks(ticks, [str(n) for n in ticks])
        axis.grid(alpha=0.3)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=8, title=f"trained on {trained}; mean, 95% interval")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def task_section(task: str, runs: list[SeedRun], models: list[str], params: Params, folder: Path) -> tuple[list, dict]:
    values = {model: samples(runs, model) for model in models}
    statistics = {
        model: {metric: summarize(v, limits(metric)) for metric, v in values[model].items()} for model in models
    }
    shown = [*COLUMNS[task], f"validation.best_{CURVE[task].removeprefix('val_')}"]
    columns = [column for column in shown if all(column in values[model] for model in models)]
    n = len(runs)
    lines = [
        f"## {task}",
        "",
        f"Mean over {n} seeds [{CONFIDENCE:.0%} interval, Student's t]. Time is training only, mean over seeds.",
        "",
        "| model | " + " | ".join(columns) + " | parameters | s/epoch | train s | epochs |",
        "|---|" + "---:|" * (len(columns) + 4),
    ]
    for model in models:
        cells = [interval(statistics[model][column]) for column in columns]
        summaries = [run.summaries[model] for run in runs]
        seconds = np.mean([s["train_seconds"] for s in summaries])
        per_epoch = np.mean([s["train_seconds"] / s["epochs_run"] for s in summaries])
        epochs = np.mean([s["epochs_run"] for s in summaries])
        lines.append(
            f"| {model} | " + " | ".join(cells) + f" | {summaries[0]['parameters']:,} | {per_epoch:.1f} | "
            f"{seconds:.0f} | {epochs:.1f} |"
        )
    targets = {model: params.compare.targets[model] for model in models if model in params.compare.targets}
    if targets:
        lines += ["", "Targets (params.yaml `compare.targets`, set for the full defaults on mnist-mini):", ""]
        for model, wanted in targets.items():
            for metric, floor in wanted.items():
                summary = statistics[model][metric]
                if summary.mean < floor:
                    verdict = "**misses it**"
                elif summary.low is not None and summary.low < floor:
                    verdict = f"meets it; its interval reaches below ({summary.low:.4f}): more seeds would settle it"
                else:
                    verdict = "meets it, with its whole interval"
                lines.append(f"- {model}: {metric} ≥ {floor:g}; the mean, {summary.mean:.4f}, {verdict}.")
    lines += ["", "<details><summary>Every metric: mean, standard deviation, 95% interval</summary>", ""]
    lines += ["| model | metric | mean | sd | 95% interval |", "|---|---|---:|---:|---|"]
    for model in models:
        for metric, summary in statistics[model].items():
            bounds = "—" if summary.low is None else f"[{summary.low:.4g}, {summary.high:.4g}]"
            lines.append(f"| {model} | {metric} | {summary.mean:.4g} | {summary.std:.2g} | {bounds} |")
    lines += ["", "</details>"]
    plot_error_bars(folder / f"{task}-test.png", task, statistics, values, columns[:3])
    plot_validation_bands(folder / f"{task}-validation.png", task, runs, models)
    lines += ["", f"![{task} test metrics, error bars]({task}-test.png)",
              f"![{task} validation curves, mean and band]({task}-validation.png)"]  # fmt: skip
    tests = {}
    for metric in TESTED[task]:
        if not all(metric in values[model] for model in models):
            continue
        metric_samples = {model: values[model][metric] for model in models}
        comparisons = compare_pairs(metric_samples)
        tests[metric] = comparisons
        better = "higher" if higher_is_better(metric) else "lower"
        lines += [
            "",
            f"### {task}: which differences in {metric} are real ({better} is better)",
            "",
            "Paired t-test by seed; p adjusted by Benjamini-Hochberg over the table's pairs; "
            "significant: adjusted p < 0.05.",
            "",
            "| pair | mean difference | p | adjusted p | significant |",
            "|---|---:|---:|---:|---|",
        ]
        for c in comparisons:
            lines.append(
                f"| {c.first} − {c.second} | {c.difference:+.4f} | {c.p_value:.3g} | {c.p_adjusted:.3g} | "
                f"{'yes' if c.significant else 'no'} |"
            )
        lines += ["", "Ranking: " + "; ".join(ranking(metric_samples, higher_is_better(metric), comparisons)) + "."]
    sweeps = {}
    if task == "sum":
        sweeps = {model: sweep_statistics(runs, model, params.sum.length) for model in models}
        plot_sweep(folder / "sum-lengths.png", sweeps, trained_lengths(params))
        lengths = list(next(iter(sweeps.values())))
        lines += [
            "",
            f"### How far each variant counts (trained on {trained_lengths(params)})",
            "",
            f"Rounded accuracy by test length, mean over {n} seeds [{CONFIDENCE:.0%} interval].",
            "",
            "| model | " + " | ".join(f"{length} bits" for length in lengths) + " |",
            "|---|" + "---:|" * len(lengths),
        ]
        for model, sweep in sweeps.items():
            lines.append(
                f"| {model} | " + " | ".join(interval(sweep[n]["rounded_accuracy"], 3) for n in lengths) + " |"
            )
        if params.sum.train_lengths:
            shortest, longest = params.sum.train_lengths
            floor = params.compare.seen_lengths_accuracy
            seen = [length for length in lengths if shortest <= length <= longest]
            if not seen:
                lines += ["", f"No length of the sweep ({lengths}) lies in the trained range {shortest}-{longest}."]
            lines += (
                []
                if not seen
                else [
                    "",
                    f"Bar: rounded accuracy ≥ {floor:g} at every tested length trained on ({seen}), all but rnn:",
                    "",
                ]
            )
            for model, sweep in sweeps.items() if seen else []:
                worst = min(sweep[length]["rounded_accuracy"].mean for length in seen)
                verdict = "meets it" if worst >= floor else "**misses it**"
                exempt = " (`rnn` is not held to it)" if model.endswith("-rnn") else ""
                lines.append(f"- {model}: lowest mean {worst:.4f}, {verdict}{exempt}.")
        lines += ["", "![sum by sequence length](sum-lengths.png)"]
    record = {
        "statistics": {m: {k: asdict(s) for k, s in stats.items()} for m, stats in statistics.items()},
        "seeds": {m: v for m, v in values.items()},
        "tests": {metric: [asdict(c) for c in comparisons] for metric, comparisons in tests.items()},
        "length_sweep": {
            m: {n: {k: asdict(s) for k, s in v.items()} for n, v in sweep.items()} for m, sweep in sweeps.items()
        },  # fmt: skip
    }
    return lines, record


def tolerance_section(records: dict, baseline: Path) -> list[str]:
    """For each metric the gate checks: the largest seed standard deviation over the models, and 3
    of them as a tolerance. One run's value then falls within it of another run's (a gate run on
    another CPU draws anew) about 97% of the time: their difference has sd * sqrt(2)."""
    from rnncompare.gate import load_baseline

    if not baseline.is_file():
        return []
    rules, _ = load_baseline(baseline)
    lines = [
        "## Gate tolerances from this spread",
        "",
        f"For `{baseline}`: 3 × the largest seed standard deviation of each gated metric.",
        "",
        "| metric | largest sd (model) | 3 sd | tolerance now |",
        "|---|---:|---:|---:|",
    ]
    for metric, rule in rules.items():
        spreads = [
            (statistics[metric]["std"], model)
            for record in records.values()
            for model, statistics in record["statistics"].items()
            if metric in statistics
        ]
        if spreads:
            std, model = max(spreads)
            lines.append(f"| {metric} | {std:.4g} ({model}) | {3 * std:.4g} | {rule.tolerance:g} |")
    return lines


def tag_mlflow_runs(params: Params, comparison: str, runs: list[SeedRun], records: dict, folder: Path) -> None:
    """Tag every seed's run with the comparison, and record one summary run per task holding the
    means and intervals and the page: in the UI, filter on `tags.comparison = '<name>'`."""
    import mlflow
    from mlflow import MlflowClient

    from rnncompare import tracking

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="train seeds 0..N-1")
    parser.add_argument("--jobs", type=int, default=1, help="experiments run at once by DVC's queue")
    parser.add_argument("--name", required=True, help="the comparison's name: experiments <name>-seed<N>")
    parser.add_argument(
        "--collect-only", action="store_true", help="do not run: read the finished experiments named <name>-seed<N>"
    )
    parser.add_argument(
        "--set-param", action="append", default=[], metavar="KEY=VALUE", help="for every seed (dvc exp run -S)"
    )
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--out", type=Path, default=Path("reports/seeds"))
    arguments = parser.parse_args()
    if arguments.seeds < 2:
        parser.error("--seeds must be at least 2: one seed has no spread")
    params = load_params(arguments.params)
    profile = "".join(f" PROFILE={name}" for name in profiles_in(arguments.params))  # its page's folder
    log.info("comparison %s: `make compare COMPARISON=%s COLLECT=1%s` rewrites its page", arguments.name,
             arguments.name, profile)  # fmt: skip
    if not arguments.collect_only:
        run_seeds(arguments.name, list(range(arguments.seeds)), arguments.jobs, arguments.set_param)
    models = [f"{task}-{variant}" for task in TASKS for variant in params.models]
    runs = collect(arguments.name, models)
    _, params = params_at(experiment_commits(arguments.name)[runs[0].experiment])  # as the experiments ran
    page = [
        f"# Recurrent variants over {len(runs)} training seeds: {arguments.name}",
        "",
        f"Made by `make compare` from the DVC experiments {', '.join(run.experiment for run in runs)} "
        f"(train.seed {', '.join(str(run.seed) for run in runs)}; every other param the same). In MLflow, "
        f"filter the runs on ``tags.`comparison.{arguments.name}` != ''`` (or on `tags.comparison`, each run's "
        "latest comparison) and group them by variant.",
        "",
        "Intervals are over training seeds on fixed data: they say how much the seed moves a result, not how "
        "much another test set would (about 0.14 points of accuracy at 98% on 10,000 images).",
    ]
    records = {}
    with replaced_directory(arguments.out) as folder:
        for task in TASKS:
            models_of_task = [model for model in models if model.startswith(f"{task}-")]
            if models_of_task:
                lines, records[task] = task_section(task, runs, models_of_task, params, folder)
                page += [""] + lines
        page += [""] + tolerance_section(records, Path(params.check.baseline))
        write_json(folder / "seeds.json", {"comparison": arguments.name, "tasks": records})
        (folder / "index.md").write_text("\n".join(page) + "\n")
    tag_mlflow_runs(params, arguments.name, runs, records, arguments.out)
    log.info("wrote %s/index.md", arguments.out)


if __name__ == "__main__":
    run_stage(main)
