"""Where a run came from, and the command that reproduces exactly that run."""

import subprocess

from rnncompare.core.repository import execution_id
from rnncompare.tracking import lineage

STAGES = ["train@sum-gru", "evaluate@sum-gru"]
CLEAN = {"git.commit": "abc123", "git.dirty": "false"}
DIRTY = {"git.commit": "abc123", "git.dirty": "true"}


def test_a_clean_commit_is_reproduced_by_checking_it_out(monkeypatch):
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    command = lineage.reproduce_command(CLEAN, STAGES, "changes.diff")
    assert command == "git checkout abc123 && dvc repro train@sum-gru evaluate@sum-gru"


def test_a_dirty_tree_is_reproduced_by_applying_its_logged_diff(monkeypatch):
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    command = lineage.reproduce_command(DIRTY, STAGES, "changes.diff")
    assert command == "git checkout abc123 && git apply changes.diff && dvc repro train@sum-gru evaluate@sum-gru"


def test_an_experiment_is_reproduced_by_applying_it(monkeypatch):
    monkeypatch.setenv("DVC_EXP_NAME", "sum-epochs-1")
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "f" * 40)
    assert lineage.reproduce_command(DIRTY, STAGES, "changes.diff") == (
        "dvc exp apply sum-epochs-1 && dvc repro train@sum-gru evaluate@sum-gru"
    )
    assert lineage.experiment() == {"dvc.experiment": "sum-epochs-1", "dvc.experiment.baseline": "f" * 40}
    assert execution_id() == "exp-sum-epochs-1"


def test_pipeline_outputs_in_git_do_not_make_the_tree_dirty(tmp_path, monkeypatch):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@e"]
    (tmp_path / "metrics").mkdir()
    for name in ("dvc.lock", "metrics/sum-gru.json", "params.yaml"):
        (tmp_path / name).write_text("1\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=tmp_path, check=True)
    monkeypatch.setattr(lineage, "CODE_ROOT", tmp_path)
    (tmp_path / "dvc.lock").write_text("2\n")
    (tmp_path / "metrics/sum-gru.json").write_text("2\n")
    assert lineage.git_state()["git.dirty"] == "false"
    (tmp_path / "params.yaml").write_text("2\n")
    assert lineage.git_state()["git.dirty"] == "true"
    assert "params.yaml" in lineage.working_tree_diff() and "dvc.lock" not in lineage.working_tree_diff()
