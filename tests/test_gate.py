"""The regression gate reads like its rules: equal passes, better passes, worse beyond tolerance,
a missing model or a NaN fails, naming the model and the metric."""

import json
import math

import pytest
import yaml

from rnncompare.analysis import gate
from tests.conftest import run_module

RULES = {
    "test.accuracy": {"better": "higher", "tolerance": 0.002},
    "test.mae": {"better": "lower", "tolerance": 0.01},
}
BASELINE = {"mnist-lstm": {"test.accuracy": 0.98}, "sum-gru": {"test.mae": 0.05}}


def write_metrics(folder, mnist_accuracy=0.98, sum_mae=0.05, models=("mnist-lstm", "sum-gru")):
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    if "mnist-lstm" in models:
        (folder / "mnist-lstm.json").write_text(json.dumps({"test": {"accuracy": mnist_accuracy, "loss": 0.1}}))
    if "sum-gru" in models:
        (folder / "sum-gru.json").write_text(json.dumps({"test": {"mae": sum_mae}, "test_50bits": {"mae": 3.0}}))
    return folder


def verdicts(tmp_path, **metrics):
    rules = {name: gate.Rule(**rule) for name, rule in RULES.items()}
    rows = gate.compare(rules, BASELINE, gate.current_metrics(write_metrics(tmp_path / "metrics", **metrics)))
    return {(row.model, row.metric): row.verdict for row in rows}


def test_identical_metrics_pass(tmp_path):
    assert set(verdicts(tmp_path).values()) == {"ok"}


def test_a_drop_within_tolerance_passes_and_beyond_it_fails(tmp_path):
    assert verdicts(tmp_path, mnist_accuracy=0.979)[("mnist-lstm", "test.accuracy")] == "ok"
    assert verdicts(tmp_path, mnist_accuracy=0.975)[("mnist-lstm", "test.accuracy")] == "regressed"


def test_lower_is_better_metrics_regress_upwards(tmp_path):
    assert verdicts(tmp_path, sum_mae=0.07)[("sum-gru", "test.mae")] == "regressed"
    assert verdicts(tmp_path, sum_mae=0.01)[("sum-gru", "test.mae")] == "improved"


def test_improvements_are_never_failures(tmp_path):
    assert verdicts(tmp_path, mnist_accuracy=0.999)[("mnist-lstm", "test.accuracy")] == "improved"


def test_a_model_of_the_baseline_without_metrics_fails(tmp_path):
    assert verdicts(tmp_path, models=("sum-gru",))[("mnist-lstm", "test.accuracy")] == "missing"


def test_a_nan_metric_fails(tmp_path):
    assert verdicts(tmp_path, mnist_accuracy=math.nan)[("mnist-lstm", "test.accuracy")] == "nan"


@pytest.fixture
def baseline_file(tmp_path):
    path = tmp_path / "baseline.yaml"
    path.write_text("# reference values\n" + yaml.safe_dump({"rules": RULES, "models": BASELINE}))
    return path


def check(tmp_path, baseline_file, *extra):
    return run_module(
        "rnncompare", "check", "--baseline", str(baseline_file), "--metrics-dir", str(tmp_path / "metrics"),
        "--report", str(tmp_path / "report.md"), *extra,
    )  # fmt: skip


def test_the_check_command_exits_1_with_a_table_naming_the_model_and_metric(tmp_path, baseline_file):
    write_metrics(tmp_path / "metrics", mnist_accuracy=0.95)
    result = check(tmp_path, baseline_file)
    assert result.returncode == 1
    assert "| mnist-lstm | test.accuracy | 0.9800 | 0.9500 | -0.0300 |" in result.stdout
    assert "**REGRESSED**" in result.stdout and "mnist-lstm test.accuracy" in result.stderr
    assert (tmp_path / "report.md").read_text() == result.stdout.rstrip("\n") + "\n"


def test_the_check_command_passes_on_identical_metrics(tmp_path, baseline_file):
    write_metrics(tmp_path / "metrics")
    result = check(tmp_path, baseline_file)
    assert result.returncode == 0, result.stderr
    assert "passed, 2 metrics" in result.stdout


def test_refresh_takes_the_current_values_and_keeps_the_rules_and_comments(tmp_path, baseline_file):
    write_metrics(tmp_path / "metrics", mnist_accuracy=0.9)
    assert check(tmp_path, baseline_file, "--refresh").returncode == 0
    assert baseline_file.read_text().startswith("# reference values\n")
    document = yaml.safe_load(baseline_file.read_text())
    assert document["rules"] == RULES
    assert document["models"] == {"mnist-lstm": {"test.accuracy": 0.9}, "sum-gru": {"test.mae": 0.05}}
    assert check(tmp_path, baseline_file).returncode == 0


def test_a_baseline_rule_without_a_direction_is_refused_by_name(tmp_path):
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump({"rules": {"test.accuracy": {"tolerance": 0.1}}}))
    with pytest.raises(Exception, match=r"rules\.test\.accuracy needs `better: higher` or `better: lower`"):
        gate.load_baseline(path)


def test_a_model_without_a_baseline_fails_unless_new_models_are_allowed(tmp_path):
    rules = {name: gate.Rule(**rule) for name, rule in RULES.items()}
    current = gate.current_metrics(write_metrics(tmp_path / "metrics"))
    current["sum-gru3"] = {"test.mae": 0.04}
    rows = gate.compare(rules, BASELINE, current)
    new = [row for row in rows if row.model == "sum-gru3"]
    assert [(row.metric, row.verdict, row.failed) for row in new] == [("test.mae", "new", True)]
    assert "| sum-gru3 | test.mae | — | 0.0400 | — |" in gate.markdown(rows, rules, "t")
    assert "**NO BASELINE**: `make baseline`" in gate.markdown(rows, rules, "t")
    allowed = gate.compare(rules, BASELINE, current, allow_new=True)
    assert not any(row.failed for row in allowed)
    assert "no baseline (check.allow_new)" in gate.markdown(allowed, rules, "t")


def test_a_change_within_float_noise_is_unchanged(tmp_path):
    noisy = verdicts(tmp_path, mnist_accuracy=0.98 + 1e-12, sum_mae=0.05 + 1e-12)
    assert set(noisy.values()) == {"ok"}
    rules = {name: gate.Rule(**rule) for name, rule in RULES.items()}
    rows = gate.compare(rules, BASELINE, {"mnist-lstm": {"test.accuracy": 0.98 - 1e-12}, "sum-gru": {"test.mae": 0.05}})
    assert "-0.0000" not in gate.markdown(rows, rules, "t") and "| 0 |" in gate.markdown(rows, rules, "t")
