"""The benchmark suite runs end to end (its --quick mode): a smoke test, never a timing.

Speed is not asserted here (the machines are shared and noisy); what is checked
is that every section ran and produced its figures with a baseline beside them.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"cold_start", "small_requests", "login", "login_burst", "transfers", "tus_upload", "concurrent_uploads",
            "file_list_scaling", "operators", "account_security", "folders_scaling",
            "sharing"}


@pytest.mark.slow
def test_quick_benchmark_runs_every_section_and_reports_figures_with_baselines():
    finished = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
                              capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    results = json.loads((ROOT / "benchmarks" / "results" / "quick.json").read_text())
    assert set(results["sections"]) == SECTIONS
    assert results["settings"]["mode"] == "quick"
    assert len(results["figures"]) >= 25
    for figure in results["figures"]:
        assert figure["value"]["median"] >= 0, figure["name"]  # RSS growth may be 0
    assert sum(1 for figure in results["figures"] if figure["baseline"]) >= 10  # measured beside its baseline
