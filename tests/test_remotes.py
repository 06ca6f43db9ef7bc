"""A DVC remote shared by a team, for real: one clone runs the pipeline and `make push`es; a teammate's
fresh clone, after a commit that changes no dependency, restores every train and evaluate stage from
the remote instead of recomputing it. Once with a local-path remote, once over SSH to a real sshd on
127.0.0.1. The teammate's MLflow store is their own, so the restored models' runs live elsewhere:
every stage that reads MLflow says so, and the gate and the report work without them.
"""

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.clones import GIT, TASKS, copy_repository, make, newest_experiment, run, tiny_profile, trained_stages
from tests.test_tracking import free_port

pytestmark = pytest.mark.slow
VARIANTS = ("gru",)  # one variant keeps the pipeline short; the remote does not care how many
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 that lets this user in with a key made for the test. Yields
    the environment under which ssh clients trust it: HOME with the host key in .ssh/known_hosts."""
    if not Path(SSHD).is_file():
        pytest.skip("needs OpenSSH's sshd (Debian: apt-get install openssh-server; .ci/run installs it)")
    folder = tmp_path_factory.mktemp("sshd")
    for key in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True)
    shutil.copy(folder / "client.pub", folder / "authorized_keys")
    port = free_port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\nPidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        "Subsystem sftp internal-sftp\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(folder / "sshd_config")], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert server.poll() is None, server.stderr.read()
        time.sleep(0.1)
    home = folder / "home"
    (home / ".ssh").mkdir(parents=True)
    host_key = (folder / "host.pub").read_text().split()
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    yield {"port": port, "keyfile": folder / "client", "env": {"HOME": str(home)}}
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def origin(tmp_path_factory, mnist_like) -> Path:
    """A clone whose tiny pipeline ran and was pushed to the team's local-path remote, its results not
    committed: as on a CI runner, a teammate's clone holds dvc.lock and params.yaml as committed."""
    folder = tmp_path_factory.mktemp("origin")
    clone = copy_repository(folder / "repo", tiny_profile(mnist_like, VARIANTS), VARIANTS)
    run("dvc", "remote", "add", "-d", "team", str(folder / "remote-local"), cwd=clone)
    run(*GIT, "commit", "-q", "-am", "The team's DVC remote", cwd=clone)
    make("repro", "PROFILE=tiny", cwd=clone)
    pushed = make("push", cwd=clone)
    assert " pushed" in pushed.stdout + pushed.stderr
    return clone


@pytest.fixture(scope="module")
def ssh_remote(origin, sshd) -> dict:
    """origin's results pushed to a remote over SSH as well; returns its URL and the client's settings."""
    user = run("id", "-un", cwd=origin).stdout.strip()
    url = f"ssh://{user}@127.0.0.1:{sshd['port']}{origin.parent / 'remote-ssh'}"
    use_ssh_remote(origin, url, sshd)
    pushed = make("push", cwd=origin, env=sshd["env"])
    assert " pushed" in pushed.stdout + pushed.stderr
    run("dvc", "remote", "default", "--local", "team", cwd=origin)
    return {"url": url, **sshd}


def use_ssh_remote(clone: Path, url: str, sshd: dict) -> None:
    """As a user adds an SSH remote: the URL, and their key file in .dvc/config.local (not in git)."""
    run("dvc", "remote", "add", "--local", "-d", "team-ssh", url, cwd=clone)
    run("dvc", "remote", "modify", "--local", "team-ssh", "keyfile", str(sshd["keyfile"]), cwd=clone)


def teammate(origin: Path, folder: Path) -> Path:
    """A fresh clone of origin's commits, with one README-only commit on top."""
    clone = folder / "teammate"
    run("git", "clone", "-q", str(origin), str(clone), cwd=folder)
    (clone / ".venv").symlink_to((origin / ".venv").resolve())
    with (clone / "README.md").open("a") as readme:
        readme.write("\nA line that changes no stage's dependency.\n")
    run(*GIT, "commit", "-q", "-am", "README only", cwd=clone)
    return clone


def output_of(clone: Path, path: str, mode: str = "r") -> str | bytes:
    """A file as the clone's newest profile run made it (git and the DVC cache of its experiment)."""
    from dvc.api import DVCFileSystem

    experiment = newest_experiment(clone, "tiny-")
    commit = run("git", "rev-parse", f"refs/exps/{experiment_ref(clone, experiment)}", cwd=clone).stdout.strip()
    with DVCFileSystem(str(clone), rev=commit).open(path, mode) as handle:
        return handle.read()


def experiment_ref(clone: Path, name: str) -> str:
    listing = run("git", "for-each-ref", "--format=%(refname)", "refs/exps", cwd=clone).stdout.split()
    return next(ref.removeprefix("refs/exps/") for ref in listing if ref.endswith(f"/{name}"))


def check_restored_without_training(origin: Path, clone: Path, output: str) -> None:
    assert trained_stages(output) == []
    assert "Running stage 'evaluate@" not in output
    for task in TASKS:
        for stage in ("train", "evaluate"):
            assert f"Stage '{stage}@{task}-gru' is cached - skipping run" in output
        model, metrics = f"models/{task}-gru.keras", f"metrics/{task}-gru.json"
        assert output_of(clone, model, "rb") == output_of(origin, model, "rb")
        assert output_of(clone, metrics) == output_of(origin, metrics)


def test_a_teammates_fresh_clone_restores_every_train_and_evaluate_stage_from_a_local_remote(origin, tmp_path):
    clone = teammate(origin, tmp_path)
    result = make("repro", "PROFILE=tiny", cwd=clone)
    output = result.stdout + result.stderr
    check_restored_without_training(origin, clone, output)

    # The models' runs are in origin's MLflow store, not in this clone's: register says so, and
    # neither the champion file, the report nor the gate needs them.
    assert "lives in another store" in output and str(origin / "mlflow.db") in output
    champion = json.loads(output_of(clone, "models/champion-mnist.json"))
    assert champion["version"] is None and "not registered: MLflow run" in champion["this_run"]["reason"]
    report = (clone / "reports" / "tiny" / "index.md").read_text()
    assert f"in another store (sqlite:///{origin / 'mlflow.db'})" in report
    assert "No champion in this store's registry" in report
    baseline = tmp_path / "baseline.yaml"
    shutil.copy(clone / "baselines" / "ci.yaml", baseline)
    check = (".venv/bin/python", "-m", "rnncompare", "check", "--profile", "tiny", "--baseline", str(baseline))
    run(*check, "--refresh", cwd=clone)
    gate = run(*check, cwd=clone)
    assert "| mnist-gru | test.accuracy |" in gate.stdout

    predicted = run(".venv/bin/python", "-m", "rnncompare", "predict", "--champion", "sum", "--bits", "0110",
                    cwd=clone, check=False)  # fmt: skip
    assert predicted.returncode == 1 and "Traceback" not in predicted.stderr
    assert "The pipeline's best sum model was not registered: MLflow run" in predicted.stderr


def test_a_teammates_fresh_clone_restores_every_train_and_evaluate_stage_over_ssh(origin, ssh_remote, tmp_path):
    clone = teammate(origin, tmp_path)
    use_ssh_remote(clone, ssh_remote["url"], ssh_remote)
    result = make("repro", "PROFILE=tiny", cwd=clone, env=ssh_remote["env"])
    check_restored_without_training(origin, clone, result.stdout + result.stderr)


def test_an_evaluation_change_reevaluates_restored_models_and_says_where_their_runs_are(origin, tmp_path):
    clone = teammate(origin, tmp_path)
    evaluation = clone / "rnncompare" / "evaluation" / "metrics.py"
    evaluation.write_text(evaluation.read_text() + "\n# a change that moves no number\n")
    result = make("repro", "PROFILE=tiny", cwd=clone)
    output = result.stdout + result.stderr
    assert trained_stages(output) == [] and "Running stage 'evaluate@sum-gru'" in output
    assert "test metrics not recorded in MLflow: MLflow run" in output
    assert output_of(clone, "metrics/sum-gru.json") == output_of(origin, "metrics/sum-gru.json")
