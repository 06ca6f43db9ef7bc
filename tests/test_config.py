"""params.yaml is validated once; every mistake names the key, the value and the valid choices."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from rnncompare.config.params import Params, load_params
from rnncompare.core.errors import PipelineError
from tests.conftest import REPO_ROOT, default_params


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


def test_every_invalid_key_of_a_file_is_reported_at_once(tmp_path):
    text = "sum:\n  length: 0\nmodels:\n  x: {cell: lstm, units: big}\ntrain:\n  mnist: {optimizer: rmsprop}\n"
    with pytest.raises(PipelineError) as raised:
        load_params(write(tmp_path, text))
    assert str(raised.value).splitlines() == [
        f"{tmp_path / 'params.yaml'}: sum.length = 0 is invalid; expected a positive integer.",
        f"{tmp_path / 'params.yaml'}: train.mnist.optimizer = 'rmsprop' is invalid; expected one of 'adam', 'sgd'.",
        f"{tmp_path / 'params.yaml'}: models.x.units = 'big' is invalid; expected a value of type int.",
    ]


def test_a_section_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(PipelineError, match=r"train\.sum = 5 is invalid; expected a mapping of keys to values"):
        load_params(write(tmp_path, "train:\n  sum: 5\n"))


def test_a_task_the_pipeline_does_not_have_is_refused_as_a_champion_key(tmp_path):
    with pytest.raises(PipelineError, match=r"mlflow\.champion = 'speech' is invalid; expected one of 'sum', 'mnist'"):
        load_params(write(tmp_path, "mlflow:\n  champion:\n    speech: {metric: test.accuracy}\n"))


def test_the_committed_schema_is_what_the_params_classes_give():
    checked = subprocess.run(
        [sys.executable, "-m", "rnncompare", "params", "schema", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    "name", ["params.yaml", *sorted(f"profiles/{p.name}" for p in (REPO_ROOT / "profiles").glob("*.yaml"))]
)
def test_params_and_every_profile_name_the_schema_and_validate_against_it(name):
    path = REPO_ROOT / name
    first_line = path.read_text().splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema="), f"{name} does not name the schema for editors"
    schema_path = (path.parent / first_line.split("$schema=", 1)[1]).resolve()
    assert schema_path == REPO_ROOT / "params.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
    assert [error.message for error in validator.iter_errors(yaml.safe_load(path.read_text()))] == []


def test_the_schema_refuses_what_an_editor_should_underline():
    validator = jsonschema.Draft202012Validator(json.loads((REPO_ROOT / "params.schema.json").read_text()))
    document = {"sum": {"lenght": 10}, "models": {"x": {"cell": "transformer", "units": 0}}, "train": {"seed": "0"}}
    flagged = {tuple(error.absolute_path) for error in validator.iter_errors(document)}
    assert flagged == {("sum",), ("models", "x", "cell"), ("models", "x", "units"), ("train", "seed")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "sum:\n  train_lengths: ['a', 5]\n",
            r"sum\.train_lengths\[0\] = 'a' is invalid; expected a value of type int",
        ),
        ("sum:\n  1: 2\n", r"unknown key 'sum\.1'; valid keys here are: seed, length"),
        ("models:\n  x: {cell: lstmm, init: tf1}\n", r"models\.x\.cell = 'lstmm' is invalid; expected one of 'simple'"),
    ],
)
def test_unusual_mistakes_get_the_same_one_line_errors(tmp_path, text, message):
    with pytest.raises(PipelineError, match=message) as raised:
        load_params(write(tmp_path, text))
    assert len(str(raised.value).splitlines()) == 1, "one mistake, one error"
