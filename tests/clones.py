"""A copy of this repository as a user's git clone, and the commands a user runs in it."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO_ROOT, default_params

VENV_BIN = Path(sys.executable).parent
LOCAL_STATE = {".venv", ".git", "data", "models", "plots", "reports", "mlflow.db", "mlartifacts", "cache", "tmp"}
LOCAL_STATE |= {".pytest_cache", ".ruff_cache", "dvc_plots", "config.local", "logs", ".mlflow-server", "basic_auth.db"}
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
        check: {{baseline: baselines/ci.yaml}}
        models:
        """)
        + models
        + "\n"
    )


def keep_only_variants(params: Path, variants) -> None:
    """Remove every other section under params.yaml's `models:` (the variants are those sections)."""
    kept, section = [], None
    for line in params.read_text().splitlines(keepends=True):
        if re.match(r"^\S", line):
            section = line.split(":")[0]
        variant = re.match(r"^  (\w+):", line)
        if section == "models" and variant:
            dropping = variant.group(1) not in variants
        elif section != "models" or not line.startswith("    "):
            dropping = False
        if not dropping:
            kept.append(line)
    params.write_text("".join(kept))


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
    shutil.copytree(REPO_ROOT, destination, ignore=lambda folder, names: [n for n in names if n in LOCAL_STATE])
    (destination / ".venv").symlink_to(VENV_BIN.parent)
    default_params(destination)
    without_remotes(destination / ".dvc" / "config")
    (destination / "profiles" / "tiny.yaml").write_text(profile)
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


def trained_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage 'train@")]
