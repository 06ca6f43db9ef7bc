"""The commands a user runs, one module each with a short `main()` over library code:
`rnncompare <command> --help`, or `python -m rnncompare <command>` (what `make` runs).
"""

import importlib
import sys

from rnncompare.core.errors import run_stage

COMMANDS = {
    "repro": "run the pipeline (a profile: as a DVC experiment in a temporary copy)",
    "check": "the regression gate: metrics against a committed baseline (--refresh: accept them)",
    "compare": "every task x variant under several training seeds, with statistics",
    "sweep": "a grid of DVC experiments through DVC's queue",
    "tutorials": "the original tutorials' recipes, next to the modern defaults",
    "promote": "move a task's champion alias to a registered version by hand",
    "predict": "predict with a logged or registered model",
    "ui": "the MLflow UI on the pipeline's store",
    "server": "a team's MLflow server on PostgreSQL: start, stop, upgrade, remove",
    "push": "send the run-cache's files to the DVC remote",
    "params": "check params.yaml, or write its JSON Schema",
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {what}" for name, what in COMMANDS.items()]
    return "usage: rnncompare <command> [--help]\n\ncommands:\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return
    name = argv[0]
    if name not in COMMANDS:
        sys.exit(f"rnncompare: unknown command {name!r}\n\n{usage()}")
    module = importlib.import_module(f"rnncompare.commands.{name}")
    sys.argv = [f"rnncompare {name}", *argv[1:]]
    run_stage(module.main)
