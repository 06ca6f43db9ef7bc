"""A profile writes its values over params.yaml, keeps the comments, and refuses unknown keys."""

import dataclasses
import subprocess

import pytest

from rnncompare.config import CANONICAL_MNIST_MIRRORS, load_params
from rnncompare.errors import PipelineError
from rnncompare.profiles import apply_profile
from tests.conftest import REPO_ROOT, default_params


@pytest.fixture
def params_copy(tmp_path):
    return default_params(tmp_path)


def test_ci_profile_lands_in_params_yaml_with_comments_kept(params_copy):
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    params = load_params(params_copy)
    assert params.sum.train_size == 2000
    assert params.mnist.sources == ("../shared/data/mnist-mini", *CANONICAL_MNIST_MIRRORS)
    assert params.mnist.files == "t10k-split" and params.mnist.allow_non_canonical is False
    assert "# bits per sequence (L)" in params_copy.read_text()


def test_every_committed_profile_applies_cleanly(params_copy):
    for profile in sorted((REPO_ROOT / "profiles").glob("*.yaml")):
        apply_profile(profile, params_copy)
        load_params(params_copy)


def test_profile_with_unknown_key_is_refused_and_params_unchanged(params_copy, tmp_path):
    before = params_copy.read_text()
    profile = tmp_path / "typo.yaml"
    profile.write_text("sum:\n  trian_size: 5\n")
    with pytest.raises(PipelineError, match=r"key 'sum\.trian_size' does not exist in params.yaml"):
        apply_profile(profile, params_copy)
    assert params_copy.read_text() == before


def test_profile_with_invalid_value_is_refused_and_params_unchanged(params_copy, tmp_path):
    before = params_copy.read_text()
    profile = tmp_path / "bad.yaml"
    profile.write_text("sum:\n  length: -1\n")
    with pytest.raises(PipelineError, match=r"sum\.length = -1 is invalid"):
        apply_profile(profile, params_copy)
    assert params_copy.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "params.yaml"]


def test_missing_profile_lists_the_available_ones(params_copy):
    with pytest.raises(PipelineError, match="available profiles: ci, mnist-mini"):
        apply_profile(REPO_ROOT / "profiles" / "nope.yaml", params_copy)


def test_a_profile_changes_only_the_values_it_sets_and_names_itself_above_each(params_copy):
    before = params_copy.read_text().splitlines(keepends=True)
    apply_profile(REPO_ROOT / "profiles" / "mnist-mini.yaml", params_copy)
    after = params_copy.read_text().splitlines(keepends=True)
    removed = [line for line in before if line not in after]
    added = [line for line in after if line not in before]
    assert [line.strip() for line in removed] == [
        "sources:",
        "- https://storage.googleapis.com/cvdf-datasets/mnist/",
        "- https://ossci-datasets.s3.amazonaws.com/mnist/",
        "allow_non_canonical: false  # true accepts a mirror's own SHA256SUMS (e.g. the mnist-mini subset)",
    ]
    assert [line.rstrip("\n") for line in added] == [
        "  # profile mnist-mini sets this; params.yaml's default: ['https://storage.googleapis.com/cvdf-datasets/"
        "mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/']",
        "  sources: [../shared/data/mnist-mini]",
        "  # profile mnist-mini sets this; params.yaml's default: false",
        "  allow_non_canonical: true",
    ]
    assert "".join(line for line in after if line not in added) == "".join(
        kept for kept in before if kept not in removed
    )


def test_a_changed_value_loses_the_comment_that_described_the_old_one(params_copy):
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    text = params_copy.read_text()
    assert "long and cosine-decayed" not in text and "improving (LSTM 97.09%" not in text
    assert "    # profile ci sets this; params.yaml's default: 60\n    epochs: 4\n" in text
    assert "    reduce_lr_patience: 3\n" in text and "null" in text  # nulls it did not set stay null


def test_applying_a_profile_twice_changes_nothing_and_profiles_do_not_stack(params_copy, tmp_path):
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    once = params_copy.read_text()
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    assert params_copy.read_text() == once
    apply_profile(REPO_ROOT / "profiles" / "mnist-mini.yaml", params_copy)
    params, defaults = load_params(params_copy), load_params(default_params(tmp_path / "defaults"))
    assert params.train == defaults.train and params.models == defaults.models and params.sum == defaults.sum
    assert params.mnist.sources == ("../shared/data/mnist-mini",)


def test_check_says_when_params_yaml_still_holds_a_profile(params_copy, caplog):
    from rnncompare.profiles import check

    check(params_copy)
    assert "profile" not in caplog.text
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    check(params_copy)
    assert "holds 28 value(s) set by profile ci" in caplog.text and "make reset-params" in caplog.text


def test_check_refuses_a_top_level_typo(params_copy):
    from rnncompare.profiles import check

    params_copy.write_text(params_copy.read_text().replace("\ntrain:\n", "\ntrian:\n"))
    with pytest.raises(PipelineError, match="unknown key 'trian'"):
        check(params_copy)


def test_the_committed_dvc_lock_is_that_of_the_mnist_mini_profile(params_copy):
    """dvc.lock is committed from a full `make repro PROFILE=mnist-mini`: every stage, those params."""
    import yaml

    apply_profile(REPO_ROOT / "profiles" / "mnist-mini.yaml", params_copy)
    expected = yaml.safe_load(params_copy.read_text())
    committed = subprocess.run(["git", "show", "HEAD:dvc.lock"], cwd=REPO_ROOT, capture_output=True, text=True)
    # the committed file, not the working copy's: a `make repro PROFILE=ci` before `make test` rewrites that one
    lock = yaml.safe_load(committed.stdout if committed.returncode == 0 else (REPO_ROOT / "dvc.lock").read_text())
    lock = lock["stages"]
    tasks = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]["train"]["matrix"]["task"]
    variants = list(expected["models"])
    assert set(lock) == {
        "generate_sum", "fetch_mnist", "report",
        *(f"{stage}@{task}-{variant}" for stage in ("train", "evaluate") for task in tasks for variant in variants),
        *(f"register@{task}" for task in tasks),
    }  # fmt: skip
    for stage, entry in lock.items():
        for key, value in entry.get("params", {}).get("params.yaml", {}).items():
            found = expected
            for part in key.split("."):
                found = found[part]
            assert found == value, f"dvc.lock {stage}: {key} = {value!r}, params.yaml with mnist-mini: {found!r}"


def test_reset_puts_back_every_default_even_once_committed(params_copy, tmp_path):
    from rnncompare.profiles import profiles_in, reset

    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    reset(params_copy)
    assert profiles_in(params_copy) == {}
    assert load_params(params_copy) == load_params(default_params(tmp_path / "defaults"))


@pytest.mark.parametrize("profile", ["ci", "mnist-mini"])
def test_reset_puts_back_every_default_after_dvc_exp_run_rewrote_params_yaml(params_copy, tmp_path, profile):
    from dvc.utils.hydra import apply_overrides  # what `dvc exp run --set-param` writes params.yaml with

    from rnncompare.profiles import profiles_in, reset

    apply_profile(REPO_ROOT / "profiles" / f"{profile}.yaml", params_copy)
    marked = profiles_in(params_copy)
    apply_overrides(params_copy, ["train.seed=3"])  # block lists, empty nulls, folded flow mappings
    assert profiles_in(params_copy) == marked
    reset(params_copy)
    assert profiles_in(params_copy) == {}
    expected = load_params(default_params(tmp_path / "defaults"))
    assert load_params(params_copy) == dataclasses.replace(expected, train=dataclasses.replace(expected.train, seed=3))


def test_a_deleted_section_leaves_no_stray_profile_comment_behind(params_copy):
    text = params_copy.read_text().replace("\nmodels:\n", "\nmodels:\n  gru3: {cell: gru, units: 128, layers: 3}\n")
    params_copy.write_text(text)
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    lines = params_copy.read_text().splitlines(keepends=True)
    params_copy.write_text("".join(line for line in lines if not line.startswith("  gru3:")))  # the user deletes it
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    assert "gru3" not in params_copy.read_text() and set(load_params(params_copy).models) == {
        "rnn", "lstm", "gru", "lnlstm", "bilstm",
    }  # fmt: skip


def test_a_typo_in_params_yaml_is_named_as_such_when_a_profile_is_applied(params_copy):
    params_copy.write_text(params_copy.read_text().replace("\ntrain:\n", "\ntrian:\n"))
    with pytest.raises(PipelineError, match="unknown key 'trian'"):
        apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
