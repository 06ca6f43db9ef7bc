"""The real `dvc repro` in a temporary copy of the repository: builds the data, then reruns nothing."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnncompare.core import stagetimes
from rnncompare.core.outputs import load_arrays
from tests.clones import local_state
from tests.conftest import (
    MNIST_LIKE_T10K,
    REPO_ROOT,
    default_params,
    inherited_environment,
    run_module,
    write_profile,
)

DVC = str(Path(sys.executable).with_name("dvc"))


def run_dvc(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    # Stages run `python -m ...`: that must be this environment's Python, as under `make`.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        [DVC, *arguments], cwd=cwd, capture_output=True, text=True, timeout=900,
        env={**inherited_environment(), "PATH": path},
    )  # fmt: skip


def dvc(*arguments: str, cwd: Path, stdout_only: bool = False) -> str:
    result = run_dvc(*arguments, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout if stdout_only else result.stdout + result.stderr


def read_mnist_from(params: Path, mirror: Path) -> None:
    """Point mnist.sources at the tests' own MNIST-shaped mirror alone (it is not canonical MNIST)."""
    from dvc.utils.hydra import apply_overrides

    apply_overrides(params, [f"mnist.sources=['{mirror}']", "mnist.allow_non_canonical=true"])


@pytest.fixture
def repository(tmp_path, mnist_like) -> Path:
    """A copy of the working tree, as a fresh git repository, with the CI profile applied."""
    copy = tmp_path / "repo"
    shutil.copytree(REPO_ROOT, copy, ignore=local_state)
    (copy / "dvc.lock").unlink(missing_ok=True)
    default_params(copy)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    write_profile(copy / "params.yaml", copy / "profiles" / "ci.yaml")
    read_mnist_from(copy / "params.yaml", mnist_like)
    return copy


@pytest.mark.slow
def test_dvc_repro_builds_both_datasets_then_reruns_nothing(repository):
    first = dvc("repro", "generate_sum", "fetch_mnist", cwd=repository)
    assert "Running stage 'generate_sum'" in first and "Running stage 'fetch_mnist'" in first
    train, test = (load_arrays(repository / "data" / "mnist" / f"{split}.npz") for split in ("train", "test"))
    assert train["images"].shape == (MNIST_LIKE_T10K // 2, 28, 28)  # the CI profile's t10k split
    assert test["labels"].shape == (MNIST_LIKE_T10K // 2,)
    sums = load_arrays(repository / "data" / "sum" / "test_50bits.npz")
    np.testing.assert_array_equal(sums["sums"], sums["bits"].sum(axis=(1, 2)))

    for folder in ("core", "config", "data"):  # the bytecode Python writes beside the code it runs
        bytecode = repository / "rnncompare" / folder / "__pycache__"
        bytecode.mkdir(exist_ok=True)
        (bytecode / "params.cpython-311.pyc").write_bytes(b"compiled")
    second = dvc("repro", "generate_sum", "fetch_mnist", cwd=repository)
    assert "Running stage" not in second
    assert "didn't change, skipping" in second


@pytest.mark.slow
def test_a_stage_failing_under_plain_dvc_repro_names_what_dvc_removed_and_how_to_get_it_back(
    repository, tmp_path, mnist_like
):
    from tests.conftest import corrupt

    dvc("repro", "fetch_mnist", cwd=repository)
    good = {path.name: path.read_bytes() for path in (repository / "data" / "mnist").iterdir()}
    mirror = Path(shutil.copytree(mnist_like, tmp_path / "broken"))
    corrupt(mirror / "t10k-images-idx3-ubyte.gz")
    read_mnist_from(repository / "params.yaml", mirror)
    failed = run_dvc("repro", "fetch_mnist", cwd=repository)
    assert failed.returncode != 0 and "checksum mismatch for t10k-images-idx3-ubyte.gz" in failed.stderr
    assert not (repository / "data" / "mnist").exists()  # DVC removed it before the stage ran
    assert "DVC removed data/mnist before this stage ran; the last good ones, as dvc.lock describes them, come back " \
           "with: dvc checkout fetch_mnist" in failed.stderr  # fmt: skip
    dvc("checkout", "fetch_mnist", cwd=repository)
    assert {path.name: path.read_bytes() for path in (repository / "data" / "mnist").iterdir()} == good

    shutil.rmtree(repository / ".dvc" / "cache")  # as in a fresh clone: dvc.lock names what it never had
    shutil.rmtree(repository / "data" / "mnist")
    never_had = run_dvc("repro", "fetch_mnist", cwd=repository)
    assert never_had.returncode != 0 and "checksum mismatch for t10k-images-idx3-ubyte.gz" in never_had.stderr
    assert "DVC removed" not in never_had.stderr


@pytest.mark.slow
def test_dvc_repro_after_a_param_change_reruns_only_that_stage(repository):
    dvc("repro", "generate_sum", "fetch_mnist", cwd=repository)
    text = (repository / "params.yaml").read_text().replace("seed: 0", "seed: 1", 1)
    (repository / "params.yaml").write_text(text)
    output = dvc("repro", "generate_sum", "fetch_mnist", cwd=repository)
    assert "Running stage 'generate_sum'" in output
    assert "Running stage 'fetch_mnist'" not in output


@pytest.mark.slow
def test_dvc_repro_trains_and_evaluates_a_sum_and_an_mnist_model_end_to_end(repository):
    dvc("repro", "evaluate@sum-gru", "evaluate@mnist-lstm", cwd=repository)
    for name in ("sum-gru", "mnist-lstm"):
        assert (repository / "models" / f"{name}.keras").is_file()
        assert (repository / "plots" / "history" / f"{name}.png").is_file()
    assert (repository / "plots" / "mnist" / "lstm.png").is_file()
    assert (repository / "plots" / "sum" / "gru.csv").read_text().startswith("test_set,actual,predicted")

    shown = json.loads(dvc("metrics", "show", "--json", cwd=repository, stdout_only=True))
    metrics = next(iter(shown.values()))["data"]
    mnist = metrics["metrics/mnist-lstm.json"]["data"]["test"]
    assert 0.5 < mnist["accuracy"] <= 1.0 and set(mnist["per_class_accuracy"]) == set("0123456789")
    sweep = {"test", "test_5bits", "test_20bits", "test_50bits", "test_100bits"}
    assert set(metrics["metrics/sum-gru.json"]["data"]) == sweep

    times = stagetimes.last_execution(repository)
    again = dvc("repro", "evaluate@sum-gru", "evaluate@mnist-lstm", cwd=repository)
    assert "Running stage" not in again
    assert stagetimes.last_execution(repository) == times, "a no-op repro ran no stage: it logs no time"
    check_stage_times(times)
    check_mlflow_runs(repository, mnist["accuracy"])
    check_report(repository)
    check_baseline_takes_only_metrics_of_the_current_params(repository)
    check_gate_against_a_revision(repository)


MODELS = ("sum-gru", "mnist-lstm")


def check_stage_times(times):
    """Every stage that ran logged its wall time, the training stages' split into epochs and the rest."""
    ran = {"generate_sum", "fetch_mnist"} | {f"{stage}@{model}" for stage in ("train", "evaluate") for model in MODELS}
    assert {line["stage"] for line in times} == ran and len(times) == len(ran)
    for line in times:
        assert not line["failed"] and line["seconds"] > line["startup_seconds"] > 0
        assert line["epoch_seconds"] + line["fixed_seconds"] == pytest.approx(line["seconds"], abs=0.02)
        assert (line["epochs"] > 0) == line["stage"].startswith("train@"), line
    training = next(line for line in times if line["stage"] == "train@mnist-lstm")
    assert training["epoch_seconds"] > 0 and 0 < training["cores_busy_in_epochs"] <= os.cpu_count() + 0.1


def check_baseline_takes_only_metrics_of_the_current_params(repository):
    """`make baseline` or `make check` after a params change, before the repro: refused, the baseline
    left alone."""
    from dvc.utils.hydra import apply_overrides

    baseline, params = repository / "baselines" / "ci.yaml", repository / "params.yaml"
    for stale in (repository / "metrics").glob("*.json"):  # copied with the working tree, made by no stage here
        if stale.stem not in MODELS:
            stale.unlink()
    before, original = baseline.read_text(), params.read_text()
    apply_overrides(params, ["train.mnist.epochs=2"])
    refused = run_module("rnncompare", "check", "--baseline", str(baseline), "--refresh", cwd=repository)
    assert refused.returncode == 1 and "train@mnist-lstm: params.yaml train.mnist modified" in refused.stderr
    assert "Run make repro first" in refused.stderr and baseline.read_text() == before
    gated = run_module("rnncompare", "check", "--baseline", str(baseline), cwd=repository)  # the gate alike
    assert gated.returncode == 1 and "then make check again." in gated.stderr and not gated.stdout
    params.write_text(original)
    refreshed = run_module("rnncompare", "check", "--baseline", str(baseline), "--refresh", cwd=repository)
    assert refreshed.returncode == 0, refreshed.stderr
    assert baseline.read_text() != before and "sum-gru:" in baseline.read_text()


def check_gate_against_a_revision(repository):
    """`--rev`: the metrics committed at a git revision, read through `dvc metrics diff`."""
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    files = ["metrics", "dvc.yaml", "dvc.lock", "params.yaml"]  # dvc.yaml's matrices read params.yaml
    subprocess.run([*git, "add", "-A", "-f", *files], cwd=repository, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "metrics"], cwd=repository, check=True)
    path = repository / "metrics" / "mnist-lstm.json"
    metrics = json.loads(path.read_text())
    metrics["test"]["accuracy"] -= 0.05
    path.write_text(json.dumps(metrics))
    baseline = repository / "baselines" / "ci.yaml"
    result = run_module("rnncompare", "check", "--baseline", str(baseline), "--rev", "HEAD", cwd=repository)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "| mnist-lstm | test.accuracy |" in result.stdout and "**REGRESSED**" in result.stdout


def check_report(repository):
    """The comparison page renders from the real outputs, with its pictures and run links."""
    result = run_module(
        "stages.report", "--models", "sum-gru", "mnist-lstm", "--out", "reports/compare", cwd=repository
    )
    assert result.returncode == 0, result.stderr[-2000:]
    page = (repository / "reports/compare/index.md").read_text()
    assert "| sum-gru |" in page and "| mnist-lstm |" in page and "/runs/" in page
    assert "![mnist validation curves](mnist-validation.png)" in page
    for picture in ("sum-validation.png", "sum-test.png", "mnist-validation.png", "mnist-test.png"):
        assert (repository / "reports/compare" / picture).read_bytes().startswith(b"\x89PNG")


def check_mlflow_runs(repository, accuracy):
    """The stages recorded into the copy's own SQLite store: one finished run per model, grouped
    under one parent per pipeline execution, with the dvc.lock hashes of the training."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{repository / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["rnncompare-mnist"], filter_string="tags.variant = 'lstm'")
    assert len(runs) == 1 and runs.loc[0, "status"] == "FINISHED"
    run = runs.loc[0]
    assert run["metrics.test.accuracy"] == pytest.approx(accuracy)
    assert run["tags.dvc.lock.stage"] == "train@mnist-lstm" and run["tags.dvc.lock.describes_this_model"] == "true"
    assert run["tags.dvc.lock.data/mnist"].endswith(".dir")
    parents = mlflow.search_runs(
        experiment_names=["rnncompare-sum", "rnncompare-mnist"], filter_string="tags.`pipeline.parent` = 'true'"
    )
    assert len(parents) == 2 and len(set(parents["tags.pipeline.execution"])) == 1
    assert run["tags.mlflow.parentRunId"] in set(parents["run_id"])


def test_a_variant_is_one_params_section_that_every_stage_and_the_ci_profile_follow(repository):
    params = repository / "params.yaml"
    text = params.read_text()
    params.write_text(
        text.replace("\nmodels:\n", "\nmodels:\n  gru3: {cell: gru, units: 128, layers: 3, bidirectional: false}\n")
    )
    write_profile(params, repository / "profiles" / "ci.yaml")
    from rnncompare.config.params import load_params

    assert load_params(params).models["gru3"].units == 32  # the profile's "*" sizes a new variant too
    stages = dvc("stage", "list", "--all", "--name-only", cwd=repository, stdout_only=True).split()
    assert "tutorials/dvc.yaml:train@mnist_lstm" in stages  # every pipeline file of the repository parses
    assert {"train@sum-gru3", "train@mnist-gru3", "evaluate@sum-gru3", "evaluate@mnist-gru3"} <= set(stages)
    params.write_text(text)
    stages = dvc("stage", "list", "--name-only", cwd=repository, stdout_only=True).split()
    assert not [stage for stage in stages if "gru3" in stage]


def module_level_imports(tree) -> list:
    """Import statements that run on import (those inside functions run only when called)."""
    import ast

    found, pending = [], list(ast.iter_child_nodes(tree))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            pending += list(ast.iter_child_nodes(node))
    return found


def holds_code(path: Path) -> bool:
    """Whether a file holds more than a docstring: a docstring alone changes no behaviour."""
    import ast

    body = ast.parse(path.read_text()).body
    return not (len(body) <= 1 and all(isinstance(node, ast.Expr) for node in body))


def imported_code(module: str) -> set[str]:
    """Every file of this project that `python -m module` imports, followed through imports (a
    package's `__init__.py` that holds only a docstring is left out)."""
    import ast

    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # a package's __init__ runs before its modules
            package = Path(*parts[:depth]) / "__init__.py"
            if (REPO_ROOT / package).is_file():
                seen.add(str(package))
        path = Path(*parts).with_suffix(".py")
        if not (REPO_ROOT / path).is_file() or str(path) in seen:
            continue
        seen.add(str(path))
        for node in module_level_imports(ast.parse((REPO_ROOT / path).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                pending += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                pending += [alias.name for alias in node.names]
    return {file for file in seen if file.split("/")[0] in ("rnncompare", "stages") and holds_code(REPO_ROOT / file)}


def pipeline_stages() -> dict[str, dict]:
    import yaml

    stages = {}
    for pipeline in ("dvc.yaml", "tutorials/dvc.yaml"):
        for name, stage in yaml.safe_load((REPO_ROOT / pipeline).read_text())["stages"].items():
            stages[f"{pipeline}:{name}"] = stage.get("do", stage)
    return stages


def covered(file: str, deps: list[str]) -> bool:
    return any(file == dep or file.startswith(dep.rstrip("/") + "/") for dep in deps)


def test_every_stage_depends_on_the_code_it_imports():
    for name, stage in pipeline_stages().items():
        module = re.search(r"python -m (\S+)", stage["cmd"]).group(1)
        deps = [dep for dep in stage["deps"] if "${" not in dep]
        missing = [file for file in imported_code(module) if not covered(file, deps)]
        assert not missing, f"{name} imports {sorted(missing)} but does not depend on it"


def test_every_stage_depends_on_its_own_module_and_on_folders_of_rnncompare_not_its_files():
    for name, stage in pipeline_stages().items():
        module = re.search(r"python -m (\S+)", stage["cmd"]).group(1)
        code = [dep for dep in stage["deps"] if dep.startswith(("rnncompare", "stages"))]
        assert code[0] == str(Path(*module.split(".")).with_suffix(".py")), name
        files = [dep for dep in code[1:] if dep.endswith(".py") and dep != "rnncompare/__init__.py"]
        assert not files and all((REPO_ROOT / dep).exists() for dep in code), (name, files)


def test_the_report_and_the_gate_are_no_dependency_of_training_nor_evaluation_of_training():
    stages = pipeline_stages()
    training = [
        dep for name, stage in stages.items() if name.split(":")[1] in ("train", "evaluate") for dep in stage["deps"]
    ]
    report_only = imported_code("stages.report") - imported_code("stages.train") - imported_code("stages.evaluate")
    assert "stages/report.py" in report_only and "rnncompare/report/page.py" in report_only
    assert not [file for file in report_only if covered(file, training)]
    gate = {"rnncompare/commands/check.py", "rnncompare/analysis/gate.py", "rnncompare/commands/compare.py"}
    assert not [file for file in gate if any(covered(file, stage["deps"]) for stage in stages.values())]
    scoring = imported_code("stages.evaluate") - imported_code("stages.train")
    trains = [dep for name, stage in stages.items() if name.split(":")[1] == "train" for dep in stage["deps"]]
    assert "rnncompare/evaluation/metrics.py" in scoring and not [file for file in scoring if covered(file, trains)]
