"""Apply a profile (a partial params file) onto params.yaml, changing only the values it sets.

Like `dvc exp run --set-param`, the values land in params.yaml itself, so DVC tracks every one
and `git diff params.yaml` shows what ran. Every other line stays byte for byte; each changed
value gets a comment above it naming the profile and the value it replaced, and loses the inline
comment that described the old value. Profiles do not stack: applying one first puts back the
defaults that an earlier profile's comments recorded.

    python -m rnncompare.profiles profiles/ci.yaml [params.yaml]   # apply a profile
    python -m rnncompare.profiles --check [params.yaml]           # validate; say if a profile's values are in
    python -m rnncompare.profiles --reset [params.yaml]           # put back the defaults profiles replaced
"""

import argparse
import logging
import os
import re
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from rnncompare.config import load_params
from rnncompare.errors import PipelineError, run_stage

log = logging.getLogger(__name__)
MARKER = re.compile(r"^(?P<indent>\s*)# profile (?P<profile>\S+) sets this; params\.yaml's default: (?P<default>.*)$")


def flow(value) -> str:
    """A value as one line of YAML: `4`, `null`, `[a, b]`, `{units: 32}`."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False)
    return text.removesuffix("...\n").strip()


def plain(node):
    """ruamel's round-trip node as plain Python values, for comparison and dumping."""
    if isinstance(node, dict):
        return {key: plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    if isinstance(node, ScalarBoolean):
        return bool(node)
    for kind in (bool, int, float, str):  # ruamel's ScalarFloat, ScalarInt, … as their base types
        if isinstance(node, kind):
            return kind(node)
    return node


def value_extent(lines: list[str], key_line: int, key_column: int) -> int:
    """The index after the last line of the value whose key is at (key_line, key_column): block
    items and continuation comments indented deeper than the key (or `- ` items at its column)."""
    end = key_line + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if not stripped.strip():
            break
        if indent > key_column or (indent == key_column and stripped.startswith("- ")):
            end += 1
            continue
        break
    return end


def expand_wildcard(target, overrides: dict) -> dict:
    """`"*": {...}` applies to every section of `target` (e.g. every variant under `models`); a
    section the profile names itself overrides it key by key."""
    if "*" not in overrides:
        return overrides
    every = overrides["*"]
    expanded = {key: {**every, **(overrides.get(key) or {})} for key in target}
    return {**expanded, **{key: value for key, value in overrides.items() if key != "*" and key not in target}}


def collect_edits(target, overrides: dict, lines: list[str], profile: Path, where: str = "") -> list:
    """(first line, end line, new lines) for every value of `overrides` that differs from `target`."""
    edits = []
    for key, value in expand_wildcard(target, overrides).items():
        path = f"{where}{key}"
        if key not in target:
            raise PipelineError(
                f"{profile}: key '{path}' does not exist in params.yaml; "
                f"valid keys here are: {', '.join(map(str, target))}."
            )
        current = target[key]
        nested = isinstance(value, dict) and isinstance(current, dict)
        if nested and not current.fa.flow_style():
            edits += collect_edits(current, value, lines, profile, f"{path}.")
            continue
        if nested:  # a one-line {…} mapping is rewritten whole, with the profile's keys merged in
            unknown = set(value) - set(current)
            if unknown:
                raise PipelineError(
                    f"{profile}: key '{path}.{sorted(unknown)[0]}' does not exist in params.yaml; "
                    f"valid keys here are: {', '.join(map(str, current))}."
                )
            value = {**plain(current), **value}
        if plain(current) == value:
            continue
        line, column = target.lc.key(key)
        indent = " " * column
        replacement = [
            f"{indent}# profile {profile.stem} sets this; params.yaml's default: {flow(plain(current))}\n",
            f"{indent}{key}: {flow(value)}\n",
        ]
        edits.append((line, value_extent(lines, line, column), replacement))
    return edits


def revert_profiles(lines: list[str]) -> list[str]:
    """Put back the default that each profile's comment recorded (its old inline comment is gone:
    `git checkout params.yaml` restores the file exactly). The value may span several lines, as
    when `dvc exp run --set-param` rewrote the file in block style. A comment whose value line is
    gone (its section was deleted) is dropped."""
    reverted, index = [], 0
    while index < len(lines):
        marker = MARKER.match(lines[index].rstrip("\n"))
        if not marker:
            reverted.append(lines[index])
            index += 1
            continue
        value_line = lines[index + 1] if index + 1 < len(lines) else ""
        key, separator, _ = value_line.strip().partition(":")
        if separator and not key.startswith(("#", "- ")) and value_line.startswith(marker["indent"] + key):
            reverted.append(f"{marker['indent']}{key}: {marker['default']}\n")
            index = value_extent(lines, index + 1, len(marker["indent"]))
        else:
            index += 1
    return reverted


def reset(params_path: Path) -> None:
    """Put back every default that profiles' comments recorded in params.yaml."""
    _replace_validated(params_path, "".join(revert_profiles(params_path.read_text().splitlines(keepends=True))))
    log.info("%s: the profiles' values replaced by the defaults they recorded", params_path)


def _replace_validated(params_path: Path, text: str) -> None:
    """Write `text` over params.yaml only if it is valid params."""
    temporary = params_path.with_name(f".{params_path.name}.partial-{os.getpid()}")
    temporary.write_text(text)
    try:
        load_params(temporary)
    except PipelineError as error:
        temporary.unlink()
        raise PipelineError(str(error).replace(str(temporary), str(params_path))) from None
    os.replace(temporary, params_path)


def apply_profile(profile: Path, params_path: Path) -> None:
    """Write `profile`'s values into `params_path`, validate the result, then replace the file."""
    if not profile.is_file():
        choices = ", ".join(sorted(p.stem for p in profile.parent.glob("*.yaml")))
        raise PipelineError(f"profile {profile} not found; available profiles: {choices or 'none'}.")
    load_params(params_path)  # a mistake in params.yaml itself is named as such, not as the profile's
    lines = revert_profiles(params_path.read_text().splitlines(keepends=True))  # profiles do not stack
    text = "".join(lines)
    overrides = yaml.safe_load(profile.read_text()) or {}
    try:
        document = YAML().load(text)
    except YAMLError as error:
        raise PipelineError(f"{params_path} is not valid YAML once the defaults are put back: {error}") from None
    edits = collect_edits(document, overrides, lines, profile)
    for first, end, replacement in sorted(edits, reverse=True):
        lines[first:end] = replacement
    try:
        _replace_validated(params_path, "".join(lines))
    except PipelineError as error:
        raise PipelineError(f"{profile} applied to {params_path}: {error}") from None
    log.info("%s: %d values set by %s", params_path, len(edits), profile)


def profiles_in(params_path: Path) -> dict[str, int]:
    """How many values of params.yaml each profile set (by the comments apply_profile writes)."""
    counts: dict[str, int] = {}
    for line in params_path.read_text().splitlines():
        found = MARKER.match(line)
        if found:
            counts[found["profile"]] = counts.get(found["profile"], 0) + 1
    return counts


def check(params_path: Path) -> None:
    """Validate every key of params.yaml, and say when it still holds a profile's values."""
    load_params(params_path)
    for name, count in profiles_in(params_path).items():
        log.warning(
            "%s holds %d value(s) set by profile %s (marked '# profile %s'), and this run uses them. "
            "To return to the defaults: make reset-params (puts back the defaults those comments recorded).",
            params_path, count, name, name,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, nargs="?", help="the profile to apply")
    parser.add_argument("params", type=Path, nargs="?", default=Path("params.yaml"))
    parser.add_argument("--check", action="store_true", help="validate params.yaml instead of applying a profile")
    parser.add_argument("--reset", action="store_true", help="put back the defaults that profiles replaced")
    arguments = parser.parse_args()
    if arguments.reset:
        reset(arguments.profile or arguments.params)
    elif arguments.check:
        check(arguments.profile or arguments.params)
    elif arguments.profile:
        apply_profile(arguments.profile, arguments.params)
    else:
        parser.error("give a profile to apply, or --check")


if __name__ == "__main__":
    run_stage(main)
