"""params.yaml is validated once; every mistake names the key, the value and the valid choices."""

from pathlib import Path

import pytest

from rnncompare.config import Params, load_params
from rnncompare.errors import PipelineError
from tests.conftest import default_params


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_committed_params_and_profiles_are_valid(tmp_path):
    params = load_params(default_params(tmp_path))
    assert isinstance(params, Params)
    assert params.mnist.allow_non_canonical is False  # the default asks for canonical MNIST


def test_unknown_key_names_the_key_and_the_valid_keys(tmp_path):
    with pytest.raises(PipelineError, match=r"unknown key 'sum\.lenght'.*valid keys here are: seed, length"):
        load_params(write(tmp_path, "sum:\n  lenght: 10\n"))


def test_unknown_section_names_the_valid_sections(tmp_path):
    with pytest.raises(PipelineError, match=r"unknown key 'summ'.*valid keys here are: sum, mnist"):
        load_params(write(tmp_path, "summ: {}\n"))


def test_wrong_type_names_key_value_and_expected_type(tmp_path):
    with pytest.raises(PipelineError, match=r"sum\.length = 'ten' is invalid; expected a value of type int"):
        load_params(write(tmp_path, "sum:\n  length: ten\n"))


def test_out_of_range_value_is_refused(tmp_path):
    with pytest.raises(PipelineError, match=r"sum\.train_size = 0 is invalid; expected a positive integer"):
        load_params(write(tmp_path, "sum:\n  train_size: 0\n"))


def test_a_fraction_above_one_is_refused(tmp_path):
    with pytest.raises(PipelineError, match=r"sum\.train_balanced_fraction = 1\.5 is invalid; expected a fraction"):
        load_params(write(tmp_path, "sum:\n  train_balanced_fraction: 1.5\n"))


def test_the_seeds_tf1_initialisation_is_refused_for_cells_the_seeds_did_not_have(tmp_path):
    with pytest.raises(PipelineError, match=r"models\.gru\.init = 'tf1' is invalid; expected 'keras' for this cell"):
        load_params(write(tmp_path, "models:\n  gru: {cell: gru, init: tf1}\n"))


def test_source_with_unsupported_scheme_is_refused(tmp_path):
    with pytest.raises(PipelineError, match=r"mnist\.sources = 'ftp://x/' is invalid"):
        load_params(write(tmp_path, "mnist:\n  sources: ['ftp://x/']\n"))


def test_error_names_the_file_it_read(tmp_path):
    with pytest.raises(PipelineError, match=str(tmp_path / "params.yaml")):
        load_params(write(tmp_path, "sum:\n  seed: [1]\n"))


def test_invalid_yaml_is_reported_with_the_file(tmp_path):
    with pytest.raises(PipelineError, match="is not valid YAML"):
        load_params(write(tmp_path, "sum: [unclosed\n"))


def test_a_cosine_schedule_refuses_a_plateau_schedule_beside_it(tmp_path):
    text = "train:\n  sum:\n    cosine_decay: true\n    reduce_lr_patience: 3\n"
    with pytest.raises(PipelineError, match=r"train\.sum\.reduce_lr_patience = 3 is invalid; expected null when"):
        load_params(write(tmp_path, text))
