"""params.yaml's JSON Schema, from the classes of rnncompare/config/params.py: the file editors read
(`make schema` writes params.schema.json), and the wording of validation errors read against it."""

import functools
import json
from pathlib import Path

from pydantic import TypeAdapter

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "params.schema.json"
TYPE_NAMES = {"int": "int", "float": "float", "bool": "bool", "string": "str"}


@functools.cache
def generated(params: TypeAdapter) -> dict:
    """pydantic's schema of `params`, made once per process (errors read it key by key)."""
    return params.json_schema()


def json_schema(params: TypeAdapter) -> dict:
    schema = dict(generated(params))
    schema["title"] = "rnn-compare params.yaml and profiles/*.yaml"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text(params: TypeAdapter) -> str:
    """params.schema.json as the classes give it."""
    return json.dumps(json_schema(params), indent=2) + "\n"


def schema_at(params: TypeAdapter, loc: tuple) -> tuple[dict, list[str]]:
    """The schema of the key at `loc`, and the keys valid beside it."""
    root = generated(params)

    def resolve(node: dict) -> dict:
        return root["$defs"][node["$ref"].split("/")[-1]] if "$ref" in node else node

    node, siblings = root, []
    for part in loc:
        node = resolve(node)
        nullable = [option for option in node.get("anyOf", ()) if option.get("type") != "null"]
        node = resolve(nullable[0]) if nullable and "description" not in node else node
        siblings = list(node.get("properties", {}))
        if part in siblings:
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):  # a mapping's entry
            node = node["additionalProperties"]
        elif isinstance(part, int) and "items" in node:  # a list's item
            node = node["items"]
        elif isinstance(part, int) and part < len(node.get("prefixItems", ())):
            node = node["prefixItems"][part]
    return (resolve(node) if "description" not in node else node), siblings


def description(node: dict) -> str | None:
    described = [option["description"] for option in (node, *node.get("anyOf", ())) if "description" in option]
    return described[0] if described else None


def kind_of(node: dict) -> str:
    """What a key takes, in words, from its schema."""
    if "properties" in node:
        about = description(node)
        return f"a section ({about[0].lower()}{about[1:].rstrip('.')})" if about else "a section"
    if description(node):
        return description(node)
    if node.get("type") == "boolean":
        return "true or false"
    if "enum" in node:
        return "one of " + ", ".join(map(repr, node["enum"]))
    return "a value"


def as_number(value) -> str | None:
    """A string YAML read where a number was meant (quoted, or `1,000`), spelt as a number; None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        number = float(value.strip().replace(",", "").replace("_", ""))
    except ValueError:
        return None
    return repr(int(number)) if number.is_integer() and "." not in value and "e" not in value.lower() else repr(number)


def describe(error: dict, params: TypeAdapter) -> str:
    """One pydantic error as `key = value is invalid; expected ...`, or the unknown key and the valid ones."""
    loc, value, context = list(error["loc"]), error["input"], error.get("ctx") or {}
    if error["type"] == "invalid_key":  # a key YAML read as a number, a bool or null
        loc[-1] = str(value)
    if loc and loc[-1] == "[key]":  # a mapping's key, e.g. mlflow.champion's task
        loc, value = loc[:-2], loc[-2]
    if error["type"] == "params":  # config.invalid(): a check across fields
        key = context["key"]
        loc += list(key) if isinstance(key, tuple) else [key] if key else []
        value = value if context["value"] is None else context["value"]
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    value = list(value) if isinstance(value, tuple) else value  # as YAML wrote it
    if not key:
        return f"the file must be a mapping of section names to sections, not {value!r}."
    node, siblings = schema_at(params, tuple(loc))
    if error["type"] in ("unexpected_keyword_argument", "invalid_key"):
        return f"unknown key '{key}'; valid keys here are: {', '.join(siblings)}."
    if error["type"] == "missing":
        where = "every key must be there (params.yaml is where each default lives)"
        return f"'{key}' is missing: {where}; add it: {kind_of(node)}."
    kind = error["type"].removesuffix("_type").removesuffix("_parsing")
    if error["type"] == "params":
        expected = context["expected"]
    elif kind in TYPE_NAMES:
        expected = f"a value of type {TYPE_NAMES[kind]}"
        spelt = as_number(value) if kind in ("int", "float") else None
        if spelt is not None:
            expected += f" (YAML read {value!r} as a string: write {spelt}, without quotes)"
    elif kind in ("dataclass", "dict"):
        expected = "a mapping of keys to values"
    elif kind in ("list", "tuple"):
        expected = "a list"
    elif error["type"] == "literal_error":
        expected = "one of " + ", ".join(map(repr, node.get("enum") or node["propertyNames"]["enum"]))
    else:
        expected = description(node) or error["msg"].lower()
    return f"{key} = {value!r} is invalid; expected {expected}."
