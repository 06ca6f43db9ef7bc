"""A copy of this repository as a user's git clone, and the commands a user runs in it."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO_ROOT, default_params

VENV_BIN = Path(sys.executable).parent
# What a clone has that git does not: at the repository's root, and in .dvc/.
LOCAL_STATE = {".venv", ".git", "data", "models", "plots", "reports", "mlflow.db", "mlartifacts", ".pytest_cache"}
LOCAL_STATE |= {".ruff_cache", "dvc_plots", "logs", ".mlflow-server", "basic_auth.db", "tutorials/results"}
LOCAL_STATE |= {".dvc/cache", ".dvc/tmp", ".dvc/config.local"}


def local_state(folder: str, names: list[str]) -> list[str]:
    """For shutil.copytree: the names in `folder` that are a clone's own state, and bytecode."""
    where = Path(folder).resolve().relative_to(REPO_ROOT)
    return [name for name in names if str(where / name).removeprefix("./") in LOCAL_STATE or name == "__pycache__"]


TASKS = ("sum", "mnist")
VARIANTS = ("rnn", "lstm", "gru", "lnlstm", "bilstm")
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]


def tiny_profile(mirror: Path, variants=VARIANTS) -> str:
    """Every variant at its smallest, one or two epochs: the whole pipeline in a few minutes."""
    models = "\n".join(f"  {variant}: {{units: 8, layers: 1}}" for variant in variants)
    return (
        textwrap.dedent(f"""\
        sum: {{train_size: 256, validation_size: 64, test_size: 64}}
        mnist: {{sources: ['{mirror}'], allow_non_canonical: true}}
        train:
          sum: {{epochs: 2, patience: 2, cosine_decay: false}}
          mnist: {{epochs: 1, patience: 2, cosine_decay: false, train_size: 256, dropout: 0.0,
                  augment_shift: 0.0, augment_rotation: 0.0}}
        check: {{baseline: baselines/tiny.yaml}}
        models:
        """)
        + models
        + "\n"
    )


def keep_only_variants(params: Path, variants) -> None:
    """Remove every other variant, as the README says: its section under `models:`, its
    compare.targets entries, and the tutorials' compared_with that name it."""
    from dvc.utils.serialize import modify_yaml  # DVC's round trip: the rest of the file stays as it is

    with modify_yaml(params) as document:
        for name in [name for name in document["models"] if name not in variants]:
            del document["models"][name]
        for model in [model for model in document["compare"]["targets"] if model.split("-", 1)[1] not in variants]:
            del document["compare"]["targets"][model]
        for tutorial in document["tutorials"].values():
            if tutorial["compared_with"].split("-", 1)[1] not in variants:
                tutorial["compared_with"] = None


def without_remotes(config: Path) -> None:
    """A copy of the project never talks to the team's DVC remote, should .dvc/config name one."""
    from configobj import ConfigObj

    settings = ConfigObj(str(config))
    for section in [name for name in settings if name.startswith("remote")]:
        del settings[section]
    settings.get("core", {}).pop("remote", None)
    settings.write()


def copy_repository(destination: Path, profile: str, variants=VARIANTS) -> Path:
    """The working tree as a fresh git repository (one commit), with `profiles/tiny.yaml` and this venv."""
    shutil.copytree(REPO_ROOT, destination, ignore=local_state)
    (destination / ".venv").symlink_to(VENV_BIN.parent)
    default_params(destination)
    without_remotes(destination / ".dvc" / "config")
    (destination / "profiles" / "tiny.yaml").write_text(profile)
    rules = (destination / "baselines" / "ci.yaml").read_text().split("\nmodels:", 1)[0]
    (destination / "baselines" / "tiny.yaml").write_text(rules + "\nmodels: {}\n")  # `make baseline` fills it
    if tuple(variants) != VARIANTS:
        keep_only_variants(destination / "params.yaml", variants)
    run("git", "init", "-q", cwd=destination)
    run(*GIT, "add", "-A", cwd=destination)
    run(*GIT, "commit", "-q", "-m", "clone", cwd=destination)
    return destination


def environment(extra: dict | None = None) -> dict:
    """As a user's shell after `make`: this environment's tools first, the repository's own store."""
    inherited = ("MLFLOW_", "DVC_", "PYTHONPATH", "PROFILE", "PULL", "GPU", "CI_", "AWS_", "GOOGLE_APPLICATION")
    env = {key: value for key, value in os.environ.items() if not key.startswith(inherited)}
    return {**env, "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", **(extra or {})}


def run(
    *command: str, cwd: Path, check: bool = True, timeout: int = 900, env: dict | None = None
) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment(env))
    if check:
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


def make(*arguments: str, cwd: Path, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    return run("make", "-o", ".venv/installed", *arguments, cwd=cwd, check=check, env=env)


def mlflow_runs(clone: Path, task: str):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{clone / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=[f"rnncompare-{task}"], filter_string="tags.variant != ''")


def profile_settings(clone: Path, profile: str) -> list[str]:
    """`--set-param` arguments for a profile's values, as `make repro PROFILE=...` passes them to DVC."""
    from rnncompare.experiments import profiles

    _, settings = profiles.settings_of(profile, clone / "params.yaml", clone / "profiles")
    return [argument for setting in settings for argument in ("--set-param", setting)]


def newest_experiment(clone: Path, prefix: str) -> str:
    """The name of the newest DVC experiment whose name starts with `prefix`."""
    listing = run("git", "for-each-ref", "--sort=-creatordate", "--format=%(refname)", "refs/exps", cwd=clone).stdout
    return next(ref.rsplit("/", 1)[1] for ref in listing.split() if ref.rsplit("/", 1)[1].startswith(prefix))


def trained_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage 'train@")]
