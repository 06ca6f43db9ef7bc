"""A profile is a partial params file whose values a DVC experiment runs with: it is checked against
params.yaml key by key, and written only into the experiment's copy, never into params.yaml."""

import subprocess

import pytest
import yaml
from dvc.utils.hydra import apply_overrides

from rnncompare.config.params import load_params, read_yaml
from rnncompare.core.errors import PipelineError
from rnncompare.experiments import dvc_experiments, profiles
from tests.conftest import REPO_ROOT, default_params, write_profile


@pytest.fixture
def params_copy(tmp_path):
    return default_params(tmp_path / "repo")


def settings_of(profile: profiles.Profile, params) -> list[str]:
    return profiles.set_params(profiles.overrides(profile, profiles.read_params(params)))


def test_the_ci_profile_sets_its_values_and_every_variant_small(params_copy):
    params = load_params(write_profile(params_copy))
    assert params.sum.train_size == 2000
    defaults = load_params(REPO_ROOT / "params.yaml").mnist.sources
    assert params.mnist.sources == ("../shared/data/mnist-mini", *defaults) and len(defaults) == 2
    assert params.mnist.files == "t10k-split" and params.mnist.allow_non_canonical is False
    assert {(model.units, model.layers) for model in params.models.values()} == {(32, 1)}


def test_every_committed_profile_validates_against_params_yaml(params_copy):
    for path in sorted((REPO_ROOT / "profiles").glob("*.yaml")):
        profile = profiles.load(path.stem, path.parent)
        profiles.validated(params_copy, settings_of(profile, params_copy), profile.name)


def test_checking_a_profile_leaves_params_yaml_byte_for_byte(params_copy):
    before = params_copy.read_bytes()
    profile = profiles.load("ci", REPO_ROOT / "profiles")
    profiles.validated(params_copy, settings_of(profile, params_copy), "profile ci")
    assert params_copy.read_bytes() == before


def test_a_profile_key_params_yaml_lacks_is_refused_naming_the_profile_and_the_valid_keys(params_copy, tmp_path):
    (tmp_path / "typo.yaml").write_text("sum:\n  trian_size: 5\n")
    profile = profiles.load("typo", tmp_path)
    with pytest.raises(PipelineError, match=r"typo\.yaml: key 'sum\.trian_size' does not exist in params.yaml; "):
        profiles.overrides(profile, profiles.read_params(params_copy))


def test_an_invalid_profile_value_is_refused_naming_the_key_and_the_profile(params_copy, tmp_path):
    (tmp_path / "bad.yaml").write_text("sum:\n  length: -1\n")
    profile = profiles.load("bad", tmp_path)
    with pytest.raises(PipelineError, match=r"(?s)with profile bad.*sum\.length = -1 is invalid"):
        profiles.validated(params_copy, settings_of(profile, params_copy), "profile bad")


def test_a_missing_profile_lists_the_available_ones():
    with pytest.raises(PipelineError, match="the profiles are: ci, mnist-mini"):
        profiles.load("nope", REPO_ROOT / "profiles")


def test_a_profile_that_is_not_a_mapping_is_refused(tmp_path):
    (tmp_path / "list.yaml").write_text("- sum\n")
    with pytest.raises(PipelineError, match=r"list\.yaml must be a mapping"):
        profiles.load("list", tmp_path)


def test_every_sizes_each_variant_a_new_one_too_and_a_named_one_keeps_its_own_keys(params_copy, tmp_path):
    text = params_copy.read_text().replace("\nmodels:\n", "\nmodels:\n  gru3: {cell: gru, units: 128, layers: 3}\n")
    params_copy.write_text(text)
    (tmp_path / "sizes.yaml").write_text('models:\n  "*": {units: 16, layers: 1}\n  lstm: {units: 8}\n')
    flat = profiles.overrides(profiles.load("sizes", tmp_path), profiles.read_params(params_copy))
    assert flat["models.gru3.units"] == 16 and flat["models.gru3.layers"] == 1
    assert flat["models.lstm.units"] == 8 and flat["models.lstm.layers"] == 1


@pytest.mark.parametrize(
    "value",
    [None, True, 0, 3, 0.003, 1e-05, "it's: a [string], {with} #marks", ["../shared/x", "https://a.b/c/"], []],
)
def test_each_value_reaches_dvcs_set_param_as_itself(tmp_path, value):
    path = tmp_path / "params.yaml"
    path.write_text("a:\n  b: placeholder\n")
    apply_overrides(path, profiles.set_params({"a.b": value}))
    assert read_yaml(path.read_text()) == {"a": {"b": value}}


def test_the_committed_dvc_lock_is_that_of_the_mnist_mini_profile(params_copy):
    """dvc.lock is committed from a full `make repro PROFILE=mnist-mini`: every stage, those params."""
    expected = yaml.safe_load(write_profile(params_copy, REPO_ROOT / "profiles" / "mnist-mini.yaml").read_text())
    committed = subprocess.run(["git", "show", "HEAD:dvc.lock"], cwd=REPO_ROOT, capture_output=True, text=True)
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


def git_in(repository, *arguments):
    return subprocess.run(["git", *arguments], cwd=repository, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def run_given_an_untracked_cell(tmp_path):
    """A repository whose HEAD lacks the cell module its working tree holds untracked, and a commit
    holding it too, as DVC commits a profile's run that `--copy-paths` gave the file."""
    repository = tmp_path / "repo"
    (repository / "rnncompare" / "models" / "cells").mkdir(parents=True)
    (repository / "rnncompare" / "__init__.py").write_text("")
    git_in(repository, "init", "-q")
    git_in(repository, "add", "-A")
    git_in(repository, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    cell = repository / "rnncompare" / "models" / "cells" / "peephole.py"
    cell.write_text("PEEPHOLE = 1\n")
    git_in(repository, "add", "-A")
    tree = git_in(repository, "write-tree").strip()
    run = git_in(repository, "commit-tree", tree, "-p", "HEAD", "-m", "experiment").strip()
    git_in(repository, "reset", "-q")  # the cell untracked again, as the user left it
    return repository, run, cell


def test_an_untracked_cell_the_run_was_given_unchanged_is_no_change_of_code(run_given_an_untracked_cell):
    repository, run, cell = run_given_an_untracked_cell
    assert git_in(repository, "status", "--porcelain") == "?? rnncompare/models/\n"
    assert dvc_experiments.code_changed_since(run, repository) == []


def test_an_untracked_cell_edited_or_added_after_the_run_is_a_change_of_code(run_given_an_untracked_cell):
    repository, run, cell = run_given_an_untracked_cell
    cell.write_text("PEEPHOLE = 2\n")
    (cell.parent / "another.py").write_text("")
    assert dvc_experiments.code_changed_since(run, repository) == [
        "rnncompare/models/cells/another.py", "rnncompare/models/cells/peephole.py",
    ]  # fmt: skip
