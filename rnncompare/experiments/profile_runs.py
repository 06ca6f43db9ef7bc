"""A profile's runs: each is a DVC experiment in a temporary copy, named `<profile>-<time>`, whose
commit holds its params, metrics and dvc.lock (and the DVC cache its other outputs); the workspace
is never touched. The gate and a baseline read the newest one that ran on the commit and the params
of the workspace as they are now."""

import json
import logging
import re
import shutil
import time
from pathlib import Path

from rnncompare.config.params import read_yaml
from rnncompare.core.errors import PipelineError
from rnncompare.core.nested import numbers
from rnncompare.core.outputs import replaced_directory
from rnncompare.experiments import profiles
from rnncompare.experiments.dvc_experiments import (
    Experiment,
    code_changed_since,
    dvc,
    experiments,
    git_show,
    head,
    untracked_files,
)

log = logging.getLogger(__name__)
REPORT = "reports/compare"  # the report stage's output, copied out of each profile run


def name_pattern(profile: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(profile)}-\d{{8}}-\d{{6}}$")


def run(
    profile: profiles.Profile | None, settings: list[str], pull: bool = False, name: str | None = None
) -> Experiment:
    """Run the pipeline under `settings` (a profile's and any more) as a DVC experiment in a
    temporary copy. Files git neither tracks nor ignores go along (`-C`)."""
    name = name or f"{profile.name if profile else 'run'}-{time.strftime('%Y%m%d-%H%M%S')}"
    arguments = [argument for setting in settings for argument in ("--set-param", setting)]
    arguments += [argument for path in untracked_files() for argument in ("--copy-paths", path)]
    log.info("the pipeline as DVC experiment %s, in a temporary copy (params.yaml is left alone)", name)
    try:
        dvc("exp", "run", "--temp", "--name", name, *arguments, *(["--pull"] if pull else []))
    except PipelineError:
        raise PipelineError(
            f"experiment {name} failed: its output is above. Nothing in the workspace "
            "changed: params.yaml, dvc.lock, metrics/ and the outputs are as they were, and so is every earlier "
            "experiment (`dvc exp show`)."
        ) from None
    return next(found for found in reversed(experiments()) if found.name == name)


def newest(profile: profiles.Profile, params_path: Path, settings: list[str]) -> Experiment:
    """The newest experiment of `profile` that ran on HEAD with the code and params the workspace has
    now (params.yaml with `settings`), or an error saying what changed and what to run."""
    pattern = name_pattern(profile.name)
    candidates = [found for found in experiments() if pattern.match(found.name)]
    here = [found for found in candidates if found.baseline == head()]
    command = f"make repro PROFILE={profile.name}"
    if not here:
        elsewhere = f" ({len(candidates)} ran on other commits)" if candidates else ""
        raise PipelineError(f"no run of profile {profile.name} on this commit{elsewhere}: run {command} first.")
    expected = profiles.applied(params_path, settings)
    for found in reversed(here):
        if read_yaml(git_show(found.commit, "params.yaml")) == expected and not code_changed_since(found.commit):
            return found
    latest = here[-1]
    changed_code = code_changed_since(latest.commit)  # the reason is the newest run's
    reason = (
        f"{', '.join(changed_code[:3])} changed since"
        if changed_code
        else f"{params_path} or the profile changed since"
    )
    raise PipelineError(f"the newest run of profile {profile.name}, {latest.name}, is stale: {reason}; run {command}.")


def metrics_of(experiment: Experiment, models: list[str]) -> dict[str, dict[str, float]]:
    """metrics/<model>.json as the experiment's commit holds them, flattened; a model without one is left out."""
    found = {}
    for model in models:
        try:
            found[model] = numbers(json.loads(git_show(experiment.commit, f"metrics/{model}.json")))
        except PipelineError:
            continue
    return found


def copy_report(experiment: Experiment, destination: Path) -> Path:
    """The experiment's report (reports/compare, from the DVC cache) into `destination`, replacing it."""
    from dvc.api import DVCFileSystem

    files = DVCFileSystem(".", rev=experiment.commit)
    with replaced_directory(destination) as staging:
        files.get(REPORT, str(staging / "report"), recursive=True)
        for item in (staging / "report").iterdir():
            shutil.move(str(item), staging / item.name)
        (staging / "report").rmdir()
    return destination
