"""params.yaml: parsed and validated once into frozen dataclasses (params.py); its JSON Schema and
the wording of validation errors (schema.py)."""
