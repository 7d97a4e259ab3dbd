"""Smoke runs of the benchmark scripts in --quick mode: well-formed results, no timing assertions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_trainer_benchmark_quick_mode_is_well_formed(mnist_available):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_trainer.py"), "--quick", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    rows = results["rows"]
    assert [(r["model"], r["batch_size"]) for r in rows] == [("mlp", 32), ("mlp", 128), ("cnn", 32), ("cnn", 128)]
    for r in rows:
        assert r["ours_per_s"] > 0 and r["tutorial_per_s"] > 0 and r["roofline_per_s"] > 0
        assert r["speedup_vs_tutorial"] == round(r["ours_per_s"] / r["tutorial_per_s"], 2)
        assert r["fraction_of_roofline"] == round(r["ours_per_s"] / r["roofline_per_s"], 3)
    assert set(results["overhead"]) == {"study_load_ms", "model_build_ms", "first_batch_ms"}
