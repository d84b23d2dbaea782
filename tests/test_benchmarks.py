"""The benchmark scripts run (they print figures; the figures are not judged here, only that
the scripts still work with the code: bench_batch.py once imported a function that had gone)."""
from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def _run(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_deterministic_benchmark_times_the_real_reports_and_the_synthetic_ones():
    out = _run("benchmarks/bench_deterministic.py", "--rounds", "1", "--synthetic", "5")
    assert "real reports (evals/fixtures): 44 reports x 1 rounds" in out
    assert "in the fastest round" in out and "in the median round" in out
    assert "synthetic 2021-format reports" in out and "5 reports x 1 rounds" in out


def test_batch_benchmark_runs_the_command_on_real_report_files():
    out = _run("benchmarks/bench_batch.py", "--reports", "6", "--workers", "1", "--memory")
    assert "throughput, 6 files" in out and "--workers 1:" in out and "reports/s" in out
