"""A profile (profiles/<name>.yaml) is a partial params file: the values a run changes from params.yaml.

It runs as a DVC experiment in a temporary copy of the repository (`dvc exp run --temp
--set-param ...`), so params.yaml, its comments, dvc.lock and the committed metrics stay byte for
byte as they were, and the experiment's commit records every value that ran. `"*"` under a mapping
stands for each of its keys: `models: {"*": {units: 32}}` sizes every variant, one added later too.
"""

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from rnncompare.config.params import Params, read_yaml, validate_document
from rnncompare.core.errors import PipelineError

PROFILES = Path("profiles")
EVERY = "*"


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    values: dict  # as the file writes them, "*" included


def load(name: str, folder: Path = PROFILES) -> Profile:
    """profiles/<name>.yaml, or an error listing the profiles there are."""
    path = Path(folder) / f"{name}.yaml"
    if not path.is_file():
        choices = ", ".join(sorted(p.stem for p in Path(folder).glob("*.yaml")))
        raise PipelineError(f"profile {name!r} not found: no {path}; the profiles are: {choices or 'none'}.")
    try:
        values = read_yaml(path.read_text())
    except yaml.YAMLError as error:
        raise PipelineError(f"{path} is not valid YAML: {error}") from None
    if values is not None and not isinstance(values, dict):
        raise PipelineError(f"{path} must be a mapping of params.yaml's sections to values, not {values!r}.")
    return Profile(name, path, values or {})


def read_params(params_path: Path) -> dict:
    try:
        document = read_yaml(Path(params_path).read_text())
    except FileNotFoundError:
        raise PipelineError(
            f"{params_path} not found; run from the repository root, where params.yaml lives."
        ) from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{params_path} is not valid YAML: {error}") from None
    return document if isinstance(document, dict) else {}


def overrides(profile: Profile, document: dict) -> dict[str, object]:
    """The profile as flat `key: value` settings of params.yaml's leaves, "*" expanded over the keys
    `document` has there; a key params.yaml does not have is an error naming it and the valid ones."""
    flat: dict[str, object] = {}

    def walk(values: dict, target: dict, where: str) -> None:
        if EVERY in values:
            every = values[EVERY]
            values = {**{key: every for key in target}, **{k: v for k, v in values.items() if k != EVERY}}
            if isinstance(every, dict):  # a section named beside "*" takes "*"'s keys too
                values = {
                    key: {**every, **value} if isinstance(value, dict) else value for key, value in values.items()
                }
        for key, value in values.items():
            path = f"{where}{key}"
            if not isinstance(target, dict) or key not in target:
                valid = ", ".join(map(str, target)) if isinstance(target, dict) else "none (it is a value)"
                raise PipelineError(
                    f"{profile.path}: key '{path}' does not exist in params.yaml; valid keys here are: {valid}."
                )
            if isinstance(value, dict) and isinstance(target[key], dict):
                walk(value, target[key], f"{path}.")
            else:
                flat[path] = value

    walk(profile.values, document, "")
    return flat


def applied(params_path: Path, settings: list[str]) -> dict:
    """params.yaml with `settings` (`key=value`) written in by DVC's own code, as `dvc exp run
    --set-param` writes them into an experiment's copy; params.yaml itself is left alone."""
    from dvc.exceptions import InvalidArgumentError
    from dvc.utils.hydra import apply_overrides

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "params.yaml"
        shutil.copyfile(params_path, copy)
        try:
            apply_overrides(copy, settings)
        except InvalidArgumentError as error:
            reason = str(error.__cause__ or error).splitlines()[0]
            raise PipelineError(
                f"the settings {' '.join(settings)} cannot be written into {params_path} ({reason}); each is "
                "key=value, the key one params.yaml has, e.g. train.sum.epochs=20 or 'sum.train_lengths=[1,20]'."
            ) from None
        return read_yaml(copy.read_text())


def validated(params_path: Path, settings: list[str], described: str) -> Params:
    """params.yaml with `settings` applied, validated as one params file; `described` names where
    the settings came from in an error (a profile, SET)."""
    document = applied(params_path, settings)
    try:
        return validate_document(document, Path(params_path))
    except PipelineError as error:
        raise PipelineError(f"{params_path} with {described}:\n{error}") from None


def settings_of(name: str | None, params_path: Path, folder: Path = PROFILES) -> tuple[Profile | None, list[str]]:
    """A profile and its values as `key=value` settings for `dvc exp run --set-param`; no name: none."""
    if not name:
        return None, []
    profile = load(name, folder)
    return profile, set_params(overrides(profile, read_params(params_path)))


def hydra_value(value) -> str:
    """A value in the override grammar `dvc exp run --set-param` reads (Hydra's)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return {math.inf: "inf", -math.inf: "-inf"}.get(value, "nan")
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{hydra_value(item)}" for key, item in value.items()) + "}"
    raise PipelineError(f"a profile value of type {type(value).__name__} ({value!r}) cannot be passed to DVC.")


def set_params(settings: dict[str, object]) -> list[str]:
    """`key=value` for `dvc exp run --set-param`, one per setting."""
    return [f"{key}={hydra_value(value)}" for key, value in settings.items()]
