"""A comparison over seeds as a page: per task, variant and metric the mean, standard deviation and
95% interval, parameters and training time, the targets, the paired significance tables, the ranking
in words, the length sweep, and the gate's tolerances the spread over seeds suggests."""

from dataclasses import asdict
from pathlib import Path

import numpy as np

from rnncompare.analysis.gate import load_baseline
from rnncompare.analysis.seed_figures import plot_error_bars, plot_sweep, plot_validation_bands
from rnncompare.analysis.seed_runs import SeedRun
from rnncompare.analysis.statistics import CONFIDENCE, compare_pairs, ranking, summarize
from rnncompare.config.metrics import metric_of
from rnncompare.config.params import Params
from rnncompare.core.nested import numbers
from rnncompare.core.outputs import replaced_directory, write_json
from rnncompare.report.tables import COLUMNS, CURVE, TASKS, length_curve, trained_lengths

# The metrics whose pairwise differences are tested, per task.
TESTED = {"sum": ["test.mae", "test_20bits.mae"], "mnist": ["test.accuracy", "test.loss"]}


def higher_is_better(metric: str) -> bool:
    found = metric_of(metric)
    return found.higher_is_better if found else True


def limits(metric: str) -> tuple[float, float]:
    """The values a metric can take: shares lie in [0, 1], errors and losses are never negative."""
    found = metric_of(metric)
    return (found.low, found.high) if found else (-np.inf, np.inf)


def target_line(model: str, metric: str, target: float, summary) -> str:
    """Whether the mean over seeds reaches a target: at least it (higher is better) or at most it."""
    higher = higher_is_better(metric)
    misses = summary.mean < target if higher else summary.mean > target
    edge = summary.low if higher else summary.high
    if misses:
        verdict = "**misses it**"
    elif edge is not None and (edge < target if higher else edge > target):
        side = "below" if higher else "above"
        verdict = f"meets it; its interval reaches {side} ({edge:.4f}): more seeds would settle it"
    else:
        verdict = "meets it, with its whole interval"
    return f"- {model}: {metric} {'≥' if higher else '≤'} {target:g}; the mean, {summary.mean:.4f}, {verdict}."


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
            lines += [
                target_line(model, metric, target, statistics[model][metric]) for metric, target in wanted.items()
            ]
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


def write_page(comparison: str, runs: list[SeedRun], models: list[str], params: Params, out: Path) -> dict:
    """<out>/index.md, its pictures and seeds.json (every number); returns each task's record."""
    page = [
        f"# Recurrent variants over {len(runs)} training seeds: {comparison}",
        "",
        f"Made by `make compare` from the DVC experiments {', '.join(run.experiment for run in runs)} "
        f"(train.seed {', '.join(str(run.seed) for run in runs)}; every other param the same). In MLflow, "
        f"filter the runs on ``tags.`comparison.{comparison}` != ''`` (or on `tags.comparison`, each run's "
        "latest comparison) and group them by variant.",
        "",
        "Intervals are over training seeds on fixed data: they say how much the seed moves a result, not how "
        "much another test set would (an accuracy p on n images moves by about sqrt(p(1 - p) / n): 0.14 points "
        "at 98% on MNIST's 10,000).",
    ]
    records = {}
    with replaced_directory(out) as folder:
        for task in TASKS:
            models_of_task = [model for model in models if model.startswith(f"{task}-")]
            if models_of_task:
                lines, records[task] = task_section(task, runs, models_of_task, params, folder)
                page += [""] + lines
        page += [""] + tolerance_section(records, Path(params.check.baseline))
        write_json(folder / "seeds.json", {"comparison": comparison, "tasks": records})
        (folder / "index.md").write_text("\n".join(page) + "\n")
    return records
