"""params.yaml is validated once, and is the only place a default lives: every mistake, a missing
key included, is one line that names the key, the value and what is allowed."""

import json
import math
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from rnncompare.config.params import PARAMS, Params, load_params
from rnncompare.config.schema import schema_at
from rnncompare.core.errors import PipelineError
from tests.conftest import DELETE, REPO_ROOT, default_params, default_params_text, edited_params, write_profile

COMMITTED = yaml.safe_load(default_params_text())
OPTIONAL = ("forget_bias", "init")  # a variant may leave these out: not every cell has them


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def refused(path: Path) -> str:
    with pytest.raises(PipelineError) as raised:
        load_params(path)
    return str(raised.value)


def test_committed_params_and_profiles_are_valid(tmp_path):
    params = load_params(default_params(tmp_path))
    assert isinstance(params, Params)
    assert params.mnist.allow_non_canonical is False  # the default asks for canonical MNIST
    for profile in sorted((REPO_ROOT / "profiles").glob("*.yaml")):
        load_params(write_profile(default_params(tmp_path / profile.stem), profile))


def test_unknown_key_names_the_key_and_the_valid_keys(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"sum.lenght": 10}))
    assert "unknown key 'sum.lenght'; valid keys here are: seed, length" in message


def test_unknown_section_names_the_valid_sections(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"summ": {}}))
    assert "unknown key 'summ'; valid keys here are: sum, mnist" in message


def test_wrong_type_names_key_value_and_expected_type(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"sum.length": "ten"}))
    assert "sum.length = 'ten' is invalid; expected a value of type int" in message


def test_out_of_range_value_is_refused(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"sum.train_size": 0}))
    assert "sum.train_size = 0 is invalid; expected a positive integer" in message


def test_a_missing_section_is_named_instead_of_filled_from_code(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"train": DELETE}))
    assert len(message.splitlines()) == 1
    assert message.startswith(f"{tmp_path / 'params.yaml'}: 'train' is missing: every key must be there ")
    assert "add it: a section (training settings shared by every model" in message


def test_a_missing_key_is_named_with_what_it_takes(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"train.mnist.patience": DELETE}))
    assert "'train.mnist.patience' is missing" in message and "add it: a positive integer" in message


def test_an_empty_file_is_one_error_that_says_how_to_get_the_committed_one_back(tmp_path):
    message = refused(write(tmp_path, "# nothing but a comment\n"))
    assert len(message.splitlines()) == 1
    assert "params.yaml is empty" in message and "git checkout params.yaml" in message


@pytest.mark.parametrize("seed", [-1, 2**40])
def test_a_seed_the_random_generators_refuse_is_refused_before_training(tmp_path, seed):
    message = refused(edited_params(tmp_path / "params.yaml", {"train.seed": seed}))
    assert f"train.seed = {seed} is invalid; expected a seed from 0 to 4294967295" in message


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_nan_and_infinity_are_no_numbers_here(tmp_path, value):
    for key in ("models.lstm.forget_bias", "mnist.timeout_seconds", "train.sum.learning_rate"):
        message = refused(edited_params(tmp_path / key / "params.yaml", {key: value}))
        assert f"{key} = {value!r} is invalid" in message


@pytest.mark.parametrize("key", ["mlflow.champion.sum.metric", "mlflow.model_prefix", "check.baseline"])
def test_an_empty_name_is_refused(tmp_path, key):
    message = refused(edited_params(tmp_path / "params.yaml", {key: ""}))
    assert f"{key} = '' is invalid" in message


def test_a_misspelt_target_metric_is_named_with_the_metrics_there_are(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"compare.targets.mnist-rnn": {"test.accuracys": 0.9}}))
    assert "compare.targets.mnist-rnn = 'test.accuracys' is invalid; expected a metric of mnist-rnn: test.accuracy" in (
        message
    )


@pytest.mark.parametrize("target", [-1.0, 1.5, math.nan])
def test_a_target_outside_what_its_metric_can_take_is_refused(tmp_path, target):
    message = refused(edited_params(tmp_path / "params.yaml", {"compare.targets.mnist-rnn": {"test.accuracy": target}}))
    assert "compare.targets.mnist-rnn" in message and "is invalid" in message


def test_a_target_for_a_model_the_pipeline_does_not_have_is_refused(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"compare.targets.mnist-rnnn": {"test.accuracy": 0.9}}))
    assert "compare.targets = 'mnist-rnnn' is invalid; expected a model of the pipeline" in message


def test_a_champion_metric_that_no_model_writes_is_refused(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"mlflow.champion.sum.metric": "test.accuracy"}))
    assert "mlflow.champion.sum.metric = 'test.accuracy' is invalid; expected a metric of sum's models" in message


@pytest.mark.parametrize(("text", "spelt"), [("'3e-3'", "0.003"), ('"0.003"', "0.003"), ("'1,000'", "1000")])
def test_a_number_yaml_read_as_a_string_is_named_with_the_spelling_that_works(tmp_path, text, spelt):
    path = write(
        tmp_path, default_params_text().replace("    learning_rate: 0.003\n", f"    learning_rate: {text}\n", 1)
    )
    message = refused(path)
    assert f"as a string: write {spelt}, without quotes" in message


def test_an_exponent_without_a_dot_is_a_number_as_yaml_1_2_and_dvc_read_it(tmp_path):
    path = write(tmp_path, default_params_text().replace("    learning_rate: 0.003\n", "    learning_rate: 3e-3\n", 1))
    assert load_params(path).train.sum.learning_rate == 0.003


def test_the_tutorials_tf1_initialisation_is_refused_for_cells_they_did_not_have(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"models.gru.init": "tf1"}))
    assert "models.gru.init = 'tf1' is invalid; expected 'keras' for this cell" in message


def test_source_with_unsupported_scheme_is_refused(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"mnist.sources": ["ftp://x/"]}))
    assert "mnist.sources = 'ftp://x/' is invalid" in message


def test_error_names_the_file_it_read(tmp_path):
    assert str(tmp_path / "params.yaml") in refused(edited_params(tmp_path / "params.yaml", {"sum.seed": [1]}))


def test_invalid_yaml_is_reported_with_the_file(tmp_path):
    assert "is not valid YAML" in refused(write(tmp_path, "sum: [unclosed\n"))


def test_a_cosine_schedule_refuses_a_plateau_schedule_beside_it(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"train.sum.reduce_lr_patience": 3}))
    assert "train.sum.reduce_lr_patience = 3 is invalid; expected null when" in message


def test_every_invalid_key_of_a_file_is_reported_at_once(tmp_path):
    path = edited_params(
        tmp_path / "params.yaml",
        {"sum.length": 0, "models.x": {"cell": "lstm", "units": "big", "layers": 1, "bidirectional": False},
         "train.mnist.optimizer": "rmsprop"},
    )  # fmt: skip
    assert refused(path).splitlines() == [
        f"{path}: sum.length = 0 is invalid; expected a positive integer.",
        f"{path}: train.mnist.optimizer = 'rmsprop' is invalid; expected one of 'adam', 'sgd'.",
        f"{path}: models.x.units = 'big' is invalid; expected a value of type int.",
    ]


def test_a_section_that_is_not_a_mapping_is_refused(tmp_path):
    message = refused(edited_params(tmp_path / "params.yaml", {"train.sum": 5}))
    assert "train.sum = 5 is invalid; expected a mapping of keys to values" in message


def test_a_task_the_pipeline_does_not_have_is_refused_as_a_champion_key(tmp_path):
    champion = {**COMMITTED["mlflow"]["champion"], "speech": {"metric": "test.accuracy", "direction": "max"}}
    message = refused(edited_params(tmp_path / "params.yaml", {"mlflow.champion": champion}))
    assert "mlflow.champion = 'speech' is invalid; expected one of 'sum', 'mnist'" in message


def test_the_committed_schema_is_what_the_params_classes_give():
    checked = subprocess.run(
        [sys.executable, "-m", "rnncompare", "params", "schema", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def schema_validator():
    return jsonschema.Draft202012Validator(json.loads((REPO_ROOT / "params.schema.json").read_text()))


@pytest.mark.parametrize(
    "name", ["params.yaml", *sorted(f"profiles/{p.name}" for p in (REPO_ROOT / "profiles").glob("*.yaml"))]
)
def test_params_and_every_profile_name_the_schema_for_editors(name):
    first_line = (REPO_ROOT / name).read_text().splitlines()[0]
    assert first_line.startswith("# yaml-language-server: $schema="), f"{name} does not name the schema for editors"
    assert (
        (REPO_ROOT / name).parent / first_line.split("$schema=", 1)[1]
    ).resolve() == REPO_ROOT / "params.schema.json"


def test_params_yaml_and_every_profile_written_into_it_validate_against_the_schema(tmp_path):
    documents = {"params.yaml": COMMITTED}
    for profile in sorted((REPO_ROOT / "profiles").glob("*.yaml")):
        documents[profile.name] = yaml.safe_load(
            write_profile(default_params(tmp_path / profile.stem), profile).read_text()
        )
    for name, document in documents.items():
        assert [error.message for error in schema_validator().iter_errors(document)] == [], name


def test_the_schema_refuses_what_an_editor_should_underline():
    document = json.loads(json.dumps(COMMITTED))
    document["sum"]["lenght"] = 10
    document["models"]["x"] = {"cell": "transformer", "units": 0, "layers": 1, "bidirectional": False}
    document["train"]["seed"] = "0"
    del document["check"]
    flagged = {tuple(error.absolute_path) for error in schema_validator().iter_errors(document)}
    assert flagged == {("sum",), ("models", "x", "cell"), ("models", "x", "units"), ("train", "seed"), ()}


# Every way a file can be wrong, generated from the committed one: each is refused with one line
# per mistake that names the key, and none takes a traceback.


def leaves(node: dict, where: tuple = ()):
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, (*where, key))
        else:
            yield (*where, key), value


def bounded_below(key: tuple) -> bool:
    node, _ = schema_at(PARAMS, key)
    options = [node, *node.get("anyOf", ())]
    return any("minimum" in option or "exclusiveMinimum" in option for option in options)


def an_integer(key: tuple) -> bool:
    node, _ = schema_at(PARAMS, key)
    return any(option.get("type") == "integer" for option in [node, *node.get("anyOf", ())])


def mistakes() -> list[tuple[tuple, object]]:
    cases = [((section,), DELETE) for section in COMMITTED]
    for key, value in leaves(COMMITTED):
        if key[-1] not in OPTIONAL and key[:2] != ("compare", "targets"):  # a target is an entry of a mapping
            cases.append((key, DELETE))
        cases.append((key, {"nested": "mapping"}))  # a mapping where a value belongs
        if isinstance(value, bool):
            cases.append((key, "yes please"))
        elif isinstance(value, int):
            cases += [(key, -(2**40)), (key, "7")] + ([(key, 1.5)] if an_integer(key) else [])
        elif isinstance(value, float):
            cases += [(key, math.nan), (key, math.inf), (key, "0.5")] + ([(key, -1e9)] if bounded_below(key) else [])
        elif isinstance(value, str):
            cases += [(key, ""), (key, 3)]
        elif isinstance(value, list):
            cases += [(key, "not a list"), (key, [None])]
    cases += [
        ((*section.split("."), "typo_key"), 1) for section in ("sum", "mnist", "train", "train.sum", "mlflow", "check")
    ]
    cases += [
        (("compare", "targets", "mnist-gru"), {"test.acuracy": 0.9}),
        (("compare", "targets", "sum-gru"), {"test.mae": -1.0}),
    ]
    return cases


def test_every_kind_of_mistake_in_every_key_is_refused_naming_the_key(tmp_path):
    cases = mistakes()
    assert len(cases) > 200
    accepted = []
    for number, (key, value) in enumerate(cases):
        path = edited_params(tmp_path / str(number) / "params.yaml", {key: value})
        try:
            load_params(path)
        except PipelineError as error:
            lines = str(error).splitlines()
            named = key[-2] if value is DELETE and len(key) > 1 else key[-1]
            assert any(named in line for line in lines), (key, value, lines)
            assert all(line.startswith(f"{path}: ") for line in lines), (key, value, lines)
            continue
        accepted.append((key, value))
    assert accepted == []


def test_on_the_command_line_a_mistake_is_one_line_and_no_traceback(tmp_path):
    for number, edits in enumerate([{"train": DELETE}, {"train.seed": -1}, {"models.lstm.forget_bias": math.nan}]):
        path = edited_params(tmp_path / str(number) / "params.yaml", edits)
        checked = subprocess.run(
            [sys.executable, "-m", "rnncompare", "params", "check", str(path)],
            cwd=REPO_ROOT, capture_output=True, text=True,
        )  # fmt: skip
        assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
        assert checked.stderr.startswith("ERROR rnncompare: ") and len(checked.stderr.splitlines()) == 1
