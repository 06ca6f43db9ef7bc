"""params.yaml's checks (what `make repro` runs first) and its JSON Schema (`make schema`).

rnncompare params check [params.yaml]     # every key, or one error per mistake naming the key and the fix
rnncompare params schema                  # write params.schema.json from rnncompare/config/params.py
rnncompare params schema --check          # fail if the committed copy is stale
"""

import argparse
import sys
from pathlib import Path

from rnncompare.config import schema
from rnncompare.config.params import PARAMS, load_params
from rnncompare.core.errors import run_stage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["check", "schema"])
    parser.add_argument("file", type=Path, nargs="?", default=Path("params.yaml"), help="with check: the params file")
    parser.add_argument("--check", action="store_true", help="with schema: fail if params.schema.json is stale")
    arguments = parser.parse_args()
    if arguments.action == "check":
        load_params(arguments.file)
        print(f"{arguments.file}: valid")
        return
    text = schema.schema_text(PARAMS)
    if not arguments.check:
        schema.SCHEMA_FILE.write_text(text)
        print(f"wrote {schema.SCHEMA_FILE.name}")
    elif not schema.SCHEMA_FILE.exists() or schema.SCHEMA_FILE.read_text() != text:
        sys.exit(
            f"{schema.SCHEMA_FILE.name} is stale: rnncompare/config/params.py or a cell in rnncompare/models/cells/ "
            "changed it; run `make schema` and commit it."
        )


if __name__ == "__main__":
    run_stage(main)
