"""Apply a profile (a partial params file) onto params.yaml, keeping its comments.

Like `dvc exp run --set-param`, the values land in params.yaml itself, so DVC tracks every one
and `git diff params.yaml` shows what ran.
Usage: python -m rnncompare.profiles profiles/ci.yaml [params.yaml]
"""

import argparse
import io
import os
from pathlib import Path

from ruamel.yaml import YAML

from rnncompare.config import load_params
from rnncompare.errors import PipelineError, run_stage


def merge(target: dict, overrides: dict, profile: Path, where: str = "") -> None:
    """Write `overrides` into `target` in place; every key must already exist in `target`."""
    for key, value in overrides.items():
        path = f"{where}{key}"
        if key not in target:
            raise PipelineError(
                f"{profile}: key '{path}' does not exist in params.yaml; "
                f"valid keys here are: {', '.join(map(str, target))}."
            )
        if isinstance(value, dict) and isinstance(target[key], dict):
            merge(target[key], value, profile, f"{path}.")
        else:
            target[key] = value


def apply_profile(profile: Path, params_path: Path) -> None:
    """Merge `profile` into `params_path`, validate the result, then replace the file."""
    yaml = YAML()
    yaml.preserve_quotes = True
    if not profile.is_file():
        choices = ", ".join(sorted(p.stem for p in profile.parent.glob("*.yaml")))
        raise PipelineError(f"profile {profile} not found; available profiles: {choices or 'none'}.")
    document = yaml.load(params_path.read_text())
    merge(document, yaml.load(profile.read_text()) or {}, profile)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    temporary = params_path.with_name(f".{params_path.name}.partial-{os.getpid()}")
    temporary.write_text(buffer.getvalue())
    try:
        load_params(temporary)
    except PipelineError:
        temporary.unlink()
        raise
    os.replace(temporary, params_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("params", type=Path, nargs="?", default=Path("params.yaml"))
    arguments = parser.parse_args()
    apply_profile(arguments.profile, arguments.params)


if __name__ == "__main__":
    run_stage(main)
