"""A profile writes its values over params.yaml, keeps the comments, and refuses unknown keys."""

import shutil

import pytest

from rnncompare.config import load_params
from rnncompare.errors import PipelineError
from rnncompare.profiles import apply_profile
from tests.conftest import REPO_ROOT


@pytest.fixture
def params_copy(tmp_path):
    return shutil.copy(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")


def test_ci_profile_lands_in_params_yaml_with_comments_kept(params_copy):
    apply_profile(REPO_ROOT / "profiles" / "ci.yaml", params_copy)
    params = load_params(params_copy)
    assert params.sum.train_size == 2000
    assert params.mnist.sources == ("../shared/data/mnist-mini",)
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
