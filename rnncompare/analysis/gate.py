"""The regression gate: current metrics against a committed baseline (or another git revision).

A baseline file holds `rules` (for each gated metric: which way is better and how far, in absolute
terms, the current value may fall behind) and `models` (reference values per metrics file stem).
A metric regresses when it is worse than its baseline by more than its tolerance; a model of the
baseline with no metrics file, a missing metric or a NaN fails the gate too, and so does a model
the baseline does not know (unless new models are allowed): every model is checked. Improvements
pass; a change within float noise is no change.
"""

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import yaml

from rnncompare.core.errors import PipelineError
from rnncompare.core.nested import numbers
from rnncompare.core.outputs import replaced_file


@dataclasses.dataclass(frozen=True)
class Rule:
    better: str  # "higher" or "lower"
    tolerance: float  # absolute


@dataclasses.dataclass(frozen=True)
class Row:
    model: str
    metric: str
    baseline: float
    current: float | None
    verdict: str  # "ok", "improved", "regressed", "missing", "nan", "new" (no baseline), "new-allowed"

    @property
    def failed(self) -> bool:
        return self.verdict in ("regressed", "missing", "nan", "new")


# float32 metrics written and read back differ in their last bits across runs and CPUs
NOISE = 1e-9


def load_baseline(path: Path) -> tuple[dict[str, Rule], dict[str, dict[str, float]]]:
    if not Path(path).is_file():
        raise PipelineError(f"baseline {path} not found; create it with `make baseline` (docs/ci.md).")
    document = yaml.safe_load(Path(path).read_text()) or {}
    rules = {}
    for metric, rule in (document.get("rules") or {}).items():
        if not isinstance(rule, dict) or rule.get("better") not in ("higher", "lower"):
            raise PipelineError(f"{path}: rules.{metric} needs `better: higher` or `better: lower`, got {rule!r}.")
        tolerance = rule.get("tolerance", 0.0)
        if not isinstance(tolerance, int | float) or tolerance < 0:
            raise PipelineError(f"{path}: rules.{metric}.tolerance = {tolerance!r}; expected a number >= 0.")
        rules[metric] = Rule(rule["better"], float(tolerance))
    if not rules:
        raise PipelineError(f"{path} has no `rules`: name at least one metric, e.g. test.accuracy.")
    return rules, {name: dict(values or {}) for name, values in (document.get("models") or {}).items()}


def current_metrics(metrics_dir: Path) -> dict[str, dict[str, float]]:
    """Every metrics/<model>.json, flattened: {"mnist-lstm": {"test.accuracy": 0.98, ...}}."""
    return {path.stem: numbers(json.loads(path.read_text())) for path in sorted(Path(metrics_dir).glob("*.json"))}


def metrics_at_revision(revision: str) -> tuple[dict, dict]:
    """(metrics at `revision`, metrics in the workspace), from `dvc metrics diff --json --all`."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dvc", "metrics", "diff", "--json", "--all", revision],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        raise PipelineError(f"`dvc metrics diff {revision}` failed: {detail.strip()[:500]}") from None
    old, new = {}, {}
    for path, metrics in (json.loads(result.stdout or "{}") or {}).items():
        model = Path(path).stem
        for key, values in metrics.items():
            for side, target in (("old", old), ("new", new)):
                if isinstance(values.get(side), int | float):
                    target.setdefault(model, {})[key] = float(values[side])
    return old, new


def changed_since_run(models: list[str], metrics_dir: Path) -> dict[str, str]:
    """The stages behind these models' metrics (with everything they depend on) that changed since
    they ran: {stage: what changed}. Empty for a folder that is not a pipeline's metrics/."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        root = Path(Repo.find_root(str(metrics_dir)))
    except NotDvcRepoError:
        return {}
    if (root / "metrics").resolve() != Path(metrics_dir).resolve():
        return {}
    with Repo(str(root)) as repo:
        status = repo.status(targets=[f"evaluate@{model}" for model in models], with_deps=True)
    return {stage: "; ".join(_changes(entry) for entry in changes) for stage, changes in status.items()}


def _changes(entry: str | dict) -> str:
    """One entry of `dvc status`: 'params.yaml train.mnist, models.gru modified', 'models/x.keras deleted'."""
    if isinstance(entry, str):
        return entry
    return "; ".join(
        f"{path} {', '.join(change)} modified" if isinstance(change, dict) else f"{path} {change}"
        for files in entry.values()
        for path, change in files.items()
    )


def compare(rules: dict[str, Rule], baseline: dict, current: dict, allow_new: bool = False) -> list[Row]:
    rows = []
    for model in sorted(set(current) - set(baseline)):
        for metric in rules:
            if metric in current[model]:
                rows.append(Row(model, metric, math.nan, current[model][metric], "new-allowed" if allow_new else "new"))
    for model, reference in sorted(baseline.items()):
        for metric, rule in rules.items():
            if metric not in reference:
                continue
            expected = float(reference[metric])
            value = current.get(model, {}).get(metric)
            if value is None:
                verdict = "missing"
            elif math.isnan(value):
                verdict = "nan"
            else:
                gain = (value - expected) if rule.better == "higher" else (expected - value)
                noise = NOISE * max(1.0, abs(expected))
                verdict = "regressed" if gain < -rule.tolerance - noise else "improved" if gain > noise else "ok"
            rows.append(Row(model, metric, expected, value, verdict))
    return rows


MARKS = {
    "ok": "ok",
    "improved": "improved",
    "regressed": "**REGRESSED**",
    "missing": "**MISSING**",
    "nan": "**NaN**",
    "new": "**NO BASELINE**: `make baseline` with the PROFILE that made it",
    "new-allowed": "no baseline (check.allow_new)",
}


def markdown(rows: list[Row], rules: dict[str, Rule], title: str) -> str:
    failed = [row for row in rows if row.failed]
    outcome = f"FAILED, {len(failed)} of {len(rows)}" if failed else f"passed, {len(rows)}"
    lines = [
        f"## {title}: {outcome} metrics",
        "",
        "| model | metric | baseline | current | change | tolerance | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in sorted(rows, key=lambda row: (not row.failed, row.model, row.metric)):
        current = "—" if row.current is None else f"{row.current:.4f}"
        baseline = "—" if math.isnan(row.baseline) else f"{row.baseline:.4f}"
        change = "—"
        if row.current is not None and not math.isnan(row.current) and not math.isnan(row.baseline):
            difference = row.current - row.baseline
            change = "0" if abs(difference) <= NOISE * max(1.0, abs(row.baseline)) else f"{difference:+.4f}"
        rule = rules[row.metric]
        lines.append(
            f"| {row.model} | {row.metric} | {baseline} | {current} | {change} | "
            f"{rule.tolerance:g} ({rule.better} is better) | {MARKS[row.verdict]} |"
        )
    return "\n".join(lines) + "\n"


def refresh(path: Path, current: dict) -> int:
    """Rewrite the baseline's reference values from the current metrics, keeping its rules."""
    rules, _ = load_baseline(path)
    document = yaml.safe_load(Path(path).read_text())
    header = "".join(line for line in Path(path).read_text().splitlines(True) if line.startswith("#"))
    document["models"] = {
        model: {metric: values[metric] for metric in rules if metric in values}
        for model, values in sorted(current.items())
    }
    with replaced_file(path) as temporary:
        temporary.write_text(header + yaml.safe_dump(document, sort_keys=False))
    return len(document["models"])
