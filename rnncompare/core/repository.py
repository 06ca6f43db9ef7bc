"""Where the repository is and which pipeline execution a process belongs to, also from inside
DVC's temporary experiment copies (`<root>/.dvc/tmp/exps/...`)."""

import os
import time
from pathlib import Path

import psutil

EXECUTION_VARIABLE = "RNNCOMPARE_EXECUTION"
# Set by DVC in a stage's environment during `dvc exp run` (workspace, --temp and queued runs).
EXPERIMENT_VARIABLE = "DVC_EXP_NAME"
BASELINE_VARIABLE = "DVC_EXP_BASELINE_REV"


def repository_root(start: Path | None = None) -> Path:
    """The repository's root, also from inside DVC's temporary experiment copies, so that every
    experiment shares one tracking store and one `../shared`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if folder.name == ".dvc":
            return folder.parent
    return here


def execution_id() -> str:
    """One id per `dvc repro` (or `make repro`): what groups a pipeline's runs in MLflow.

    A DVC experiment is one execution, named after it; else `make` sets it in the environment; under
    a bare `dvc repro` it is derived from the dvc process this stage runs under; a stage run by hand
    is an execution of its own."""
    if os.environ.get(EXPERIMENT_VARIABLE):
        return f"exp-{os.environ[EXPERIMENT_VARIABLE]}"
    if os.environ.get(EXECUTION_VARIABLE):
        return os.environ[EXECUTION_VARIABLE]
    process = psutil.Process()
    for ancestor in process.parents():
        try:
            command = " ".join(ancestor.cmdline())
        except psutil.Error:
            continue
        if "dvc" in Path(command.split(" ", 1)[0]).name or " -m dvc" in command or "/dvc " in command:
            process = ancestor
            break
    started = time.strftime("%Y%m%dT%H%M%S", time.localtime(process.create_time()))
    return f"{started}-{process.pid}"
