"""Nested mappings (metrics JSON, params sections) as flat `a.b.c` keys, as MLflow and the gate name them."""

import dataclasses


def flatten(value, prefix: str = "") -> dict:
    """{"test": {"accuracy": 0.9}} -> {"test.accuracy": 0.9}; dataclasses too; tuples as lists."""
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        flat = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: list(value) if isinstance(value, tuple) else value}


def numbers(document: dict) -> dict[str, float]:
    """The flattened numeric leaves of `document`, as floats (booleans are not numbers here)."""
    return {
        key: float(value)
        for key, value in flatten(document).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
