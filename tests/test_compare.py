"""`make compare`: every task x variant under several training seeds through DVC's queue, read back
from the experiments, with statistics on the page and the runs grouped in MLflow."""

import json
from pathlib import Path

import pytest

from tests.clones import GIT, copy_repository, make, profile_settings, run, tiny_profile

pytestmark = pytest.mark.slow
VARIANTS = ("lstm", "gru")


@pytest.fixture(scope="module")
def compared(tmp_path_factory, mnist_like) -> Path:
    """A clone after `make compare PROFILE=tiny SEEDS=2 COMPARISON=duo`, nothing run before it."""
    clone = copy_repository(tmp_path_factory.mktemp("compare") / "repo", tiny_profile(mnist_like, VARIANTS), VARIANTS)
    make("compare", "PROFILE=tiny", "SEEDS=2", "COMPARISON=duo", cwd=clone)
    return clone


def test_each_seed_is_one_experiment_that_differs_only_in_train_seed(compared):
    shown = json.loads(run("dvc", "exp", "show", "--json", cwd=compared).stdout)
    experiments = {
        experiment["name"]: experiment["data"]["params"]["params.yaml"]["data"]
        for baseline in shown
        for experiment in (baseline.get("experiments") or [])
        for experiment in experiment["revs"]
    }
    assert sorted(experiments) == ["duo-seed0", "duo-seed1"]
    assert [experiments[f"duo-seed{seed}"]["train"]["seed"] for seed in range(2)] == [0, 1]
    assert {experiments[name]["train"]["split_seed"] for name in experiments} == {0}


def test_the_page_gives_means_intervals_costs_tests_and_plots(compared):
    folder = compared / "reports" / "seeds-tiny"
    page = (folder / "index.md").read_text()
    assert "Mean over 2 seeds [95% interval, Student's t]" in page
    assert "| mnist-lstm | " in page and "| sum-gru | " in page
    assert "parameters | s/epoch | train s | epochs |" in page
    assert "which differences in test.accuracy are real" in page and "Ranking: " in page
    assert "How far each variant counts (trained on 10 bits)" in page and "| 100 bits |" in page
    assert "- mnist-lstm: test.accuracy ≥ 0.975; the mean" in page  # the targets are stated, met or not
    for picture in ("sum-test.png", "sum-validation.png", "sum-lengths.png", "mnist-test.png", "mnist-validation.png"):
        assert (folder / picture).stat().st_size > 10_000, picture
    record = json.loads((folder / "seeds.json").read_text())
    accuracy = record["tasks"]["mnist"]["statistics"]["mnist-gru"]["test.accuracy"]
    seeds = record["tasks"]["mnist"]["seeds"]["mnist-gru"]["test.accuracy"]
    assert len(seeds) == 2 and accuracy["mean"] == pytest.approx(sum(seeds) / 2)
    assert accuracy["low"] <= accuracy["mean"] <= accuracy["high"]
    pairs = record["tasks"]["sum"]["tests"]["test.mae"]
    assert [(pair["first"], pair["second"]) for pair in pairs] == [("sum-lstm", "sum-gru")]


def test_mlflow_holds_every_seed_s_run_tagged_and_one_summary_run_per_task(compared):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{compared / 'mlflow.db'}")
    for task in ("sum", "mnist"):
        runs = mlflow.search_runs(experiment_names=[f"rnncompare-{task}"], filter_string="tags.comparison = 'duo'")
        seeds = runs[runs["tags.comparison.summary"].isna()]
        assert sorted(zip(seeds["params.variant"], seeds["tags.comparison.seed"], strict=True)) == sorted(
            (variant, str(seed)) for variant in VARIANTS for seed in range(2)
        )
        assert set(seeds["params.train.seed"]) == {"0", "1"}
        assert list(seeds["tags.comparison.duo"]) == list(seeds["tags.comparison.seed"])  # a key per comparison
        summary = runs[runs["tags.comparison.summary"] == "true"]
        metric = "test.mae" if task == "sum" else "test.accuracy"
        assert len(summary) == 1 and summary[f"metrics.gru.{metric}.mean"].notna().all()
        assert summary[f"metrics.gru.{metric}.low"].iloc[0] <= summary[f"metrics.gru.{metric}.mean"].iloc[0]


def test_collect_reads_the_finished_experiments_again_without_training(compared):
    result = make("compare", "PROFILE=tiny", "COMPARISON=duo", "COLLECT=1", cwd=compared)
    assert "Running stage" not in result.stdout + result.stderr
    assert "`make compare COMPARISON=duo COLLECT=1 PROFILE=tiny` rewrites its page" in result.stderr
    assert (compared / "reports" / "seeds-tiny" / "index.md").is_file()
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{compared / 'mlflow.db'}")
    summaries = mlflow.search_runs(
        experiment_names=["rnncompare-mnist"], filter_string="tags.`comparison.summary` = 'true'"
    )
    assert len(summaries) == 1  # the summary run was replaced, not repeated


def test_a_comparison_whose_experiments_differ_in_more_than_the_seed_is_refused(compared):
    # A param no stage reads: the experiment restores every stage, and still differs from the others.
    tiny = profile_settings(compared, "tiny")
    setting = "compare.seen_lengths_accuracy=0.5"
    run("dvc", "exp", "run", "--temp", "--name", "duo-seed7", *tiny, "-S", "train.seed=0", "-S", setting, cwd=compared)
    try:
        result = make("compare", "PROFILE=tiny", "COMPARISON=duo", "COLLECT=1", cwd=compared, check=False)
    finally:
        run("dvc", "exp", "remove", "duo-seed7", cwd=compared)
    assert result.returncode != 0
    assert "differ in compare.seen_lengths_accuracy, not only in train.seed" in result.stderr
    assert (compared / "reports" / "seeds-tiny" / "index.md").is_file()  # the last good page is kept


def test_seeds_run_on_another_commit_are_not_mixed_into_a_comparison(compared):
    run(*GIT, "commit", "-q", "--allow-empty", "-m", "after the comparison", cwd=compared)
    tiny = profile_settings(compared, "tiny")
    try:
        run("dvc", "exp", "run", "--temp", "--name", "duo-seed2", *tiny, "-S", "train.seed=0", cwd=compared)
        result = make("compare", "PROFILE=tiny", "COMPARISON=duo", "COLLECT=1", cwd=compared, check=False)
    finally:
        run("dvc", "exp", "remove", "duo-seed2", cwd=compared, check=False)
        run(*GIT, "reset", "-q", "--soft", "HEAD~1", cwd=compared)  # the comparison's commit again, for the others
    assert result.returncode != 0
    assert "experiments named duo-seed<N> were run on 2 commits" in result.stderr
