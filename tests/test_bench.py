"""`make bench` runs end to end: the CPU, throughput and busy cores per variant, the no-op repro time, the
MLflow share and the last pipeline execution's stage times."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_a_tiny_benchmark_reports_every_figure_it_promises(tmp_path):
    out = tmp_path / "bench.json"
    stray_store = REPO_ROOT / "mlruns"
    had_stray_store = stray_store.exists()
    command = [sys.executable, "-m", "bench.run", "--variants", "gru", "--steps", "2", "--repeats", "1"]
    command += ["--mlflow-epochs", "1", "--out", str(out)]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["variants"]["gru"]["samples_per_second"] > 0
    assert 0 < results["variants"]["gru"]["cores_busy"] <= results["cores"] + 0.1
    assert set(results["vector_features"]) <= {"avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
                                               "amx_tile", "amx_bf16"}  # fmt: skip
    assert isinstance(results["last_repro_stages"], list)
    assert result.stdout.startswith("CPU: ") and "cores busy" in result.stdout
    assert results["backend"] == "tensorflow" and results["device"] == "cpu"
    assert "noop_dvc_repro_seconds" in results
    assert 0 < results["mlflow"]["epoch_logging_share"] < 1
    assert any(line.startswith("gru") and "samples/s" in line for line in result.stdout.splitlines())
    assert had_stray_store or not stray_store.exists(), "the benchmark's scratch MLflow store leaked into ./mlruns"
