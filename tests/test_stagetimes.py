"""Where a stage's time goes: its wall time split into start-up, first-epoch overhead, epochs and the rest."""

import json

import pytest

from rnncompare.core import stagetimes


def test_the_first_epochs_excess_over_the_typical_epoch_counts_as_fixed_cost():
    epochs = [(10.0, 10.0), (4.0, 7.0), (4.5, 8.0), (4.0, 7.0)]
    split = stagetimes.split(total=30.0, startup=5.0, epochs=epochs)
    assert split["first_epoch_overhead_seconds"] == 6.0  # 10 s against a median of 4 s
    assert split["epoch_seconds"] == 16.5 and split["fixed_seconds"] == 13.5
    assert split["cores_busy_in_epochs"] == pytest.approx(32 / 22.5, abs=0.01)


def test_a_stage_without_epochs_is_all_fixed_cost():
    split = stagetimes.split(total=7.5, startup=4.0, epochs=[])
    assert split["epochs"] == 0 and split["epoch_seconds"] == 0 and split["fixed_seconds"] == 7.5
    assert split["cores_busy_in_epochs"] is None


def test_only_stages_that_dvc_runs_are_logged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVC_STAGE", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    stagetimes.record(failed=False)
    assert not (tmp_path / stagetimes.LOG).exists()
    monkeypatch.setenv("DVC_STAGE", "train@sum-gru")
    monkeypatch.setenv("RNNCOMPARE_EXECUTION", "first")
    stagetimes.record(failed=False)
    monkeypatch.setenv("RNNCOMPARE_EXECUTION", "second")
    stagetimes.record(failed=True)
    lines = [json.loads(line) for line in (tmp_path / stagetimes.LOG).read_text().splitlines()]
    assert [(line["execution"], line["stage"], line["failed"]) for line in lines] == [
        ("first", "train@sum-gru", False),
        ("second", "train@sum-gru", True),
    ]
    assert [line["execution"] for line in stagetimes.last_execution(tmp_path)] == ["second"]
