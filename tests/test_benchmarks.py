"""Smoke runs of the benchmark scripts in --quick mode: well-formed results, no timing assertions."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.conftest import REPO, load_script
from tests.hardware.test_precision import cpu_flags_say_bf16

pytestmark = pytest.mark.slow


def run_script(name: str, *args: str, timeout: int = 600) -> str:
    """Run ``scripts/<name>`` with ``args`` in a fresh interpreter; its stdout (the run must succeed)."""
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / name), *args], capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_trainer_benchmark_quick_mode_is_well_formed(mnist_available):
    stdout = run_script("bench_trainer.py", "--quick", "--json")
    results = json.loads(stdout)
    rows = results["rows"]
    assert [(r["model"], r["batch_size"]) for r in rows] == [("mlp", 32), ("mlp", 128), ("cnn", 32), ("cnn", 128)]
    for r in rows:
        assert r["ours_per_s"] > 0 and r["tutorial_per_s"] > 0 and r["roofline_per_s"] > 0
        assert r["speedup_vs_tutorial"] == round(r["ours_per_s"] / r["tutorial_per_s"], 2)
        assert r["fraction_of_roofline"] == round(r["ours_per_s"] / r["roofline_per_s"], 3)
    assert set(results["overhead"]) == {"study_load_ms", "model_build_ms", "first_batch_ms"}


def test_trainer_benchmark_precision_mode_is_well_formed(mnist_available):
    stdout = run_script("bench_trainer.py", "--precision", "--quick", "--repeats", "1", "--json")
    results = json.loads(stdout)
    assert [(r["model"], r["batch_size"]) for r in results["rows"]] == [
        ("mlp 256-128", 64),
        ("mlp 256-128", 256),
        ("mlp 1024-1024", 64),
        ("mlp 1024-1024", 256),
        ("cnn 32-64-fc1024", 100),
    ]
    bf16 = cpu_flags_say_bf16()  # read from /proc/cpuinfo, not from the tool's own check
    assert results["bf16_hardware"] is bf16
    for r in results["rows"]:
        assert r["repeats"] == 1 and r["fp32_per_s"] > 0
        for arm in ("fp32", "bf16") if bf16 else ("fp32",):  # each against its own torch.mm speed
            assert r[f"{arm}_roofline_per_s"] > 0
            assert r[f"{arm}_of_roofline"] == round(r[f"{arm}_per_s"] / r[f"{arm}_roofline_per_s"], 3)
        if not bf16:  # torch would emulate bf16 here, and autotune never trains in it: fp32 alone
            assert not any(key.startswith("bf16") for key in r), r
            continue
        assert r["bf16_per_s"] > 0
        one = r["bf16_vs_fp32"]  # one repeat: the median is the ratio itself, and the range is that one value
        assert one["median"] == one["min"] == one["max"] > 0
    if bf16:
        assert "bf16+cl_per_s" in results["rows"][-1] and "bf16+cl_per_s" not in results["rows"][0]


def test_bench_trainer_epoch_times_each_precision_of_the_seed_cnn(mnist_available):
    stdout = run_script("bench_trainer.py", "--epoch", "--quick", "--json")
    results = json.loads(stdout)
    assert (results["model"], results["batch_size"], results["images"], results["repeats"]) == (
        "cnn 32-64-fc1024",
        100,
        1000,
        1,
    )
    bf16 = cpu_flags_say_bf16()  # read from /proc/cpuinfo, not from the tool's own check
    assert results["bf16_hardware"] is bf16
    arms = ("fp32", "bf16", "bf16+cl") if bf16 else ("fp32",)  # no bf16 units: fp32 alone
    assert [arm for arm in ("fp32", "bf16", "bf16+cl") if arm in results] == list(arms)
    for arm in arms:  # one repeat: median, min and max are that one epoch's seconds
        assert results[arm]["median"] == results[arm]["min"] == results[arm]["max"] > 0


def test_bench_trainer_says_when_the_cpu_has_no_bf16_units(mnist_available):
    stdout = run_script("bench_trainer.py", "--epoch", "--quick")
    bf16 = cpu_flags_say_bf16()  # read from /proc/cpuinfo, not from the tool's own check
    said = (
        "this CPU has no bf16 units (neither AVX-512 BF16 nor AMX): bf16 not timed; autotune trains fp32 here "
        "('auto' falls back to it, 'bf16' is refused)"
    )
    assert (said in stdout.splitlines()) == (not bf16)
    assert [line.split()[0] for line in stdout.splitlines() if line.startswith("  ")] == (
        ["fp32", "bf16", "bf16+cl"] if bf16 else ["fp32"]
    )


def test_search_benchmark_quick_mode_is_well_formed(mnist_available, tmp_path):
    stdout = run_script("bench_search.py", "--quick", "--json", "--out", str(tmp_path))
    results = json.loads(stdout)
    assert (
        results["reps"],
        results["first_seed"],
        results["epochs_per_trial"],
        results["hand_grid_rows"],
        results["budget_epochs"],
    ) == (1, 1000, 1, 5, 5)
    arms = [r["arm"] for r in results["rows"]]
    assert arms == ["hand grid", "random", "tpe+median", "tpe+hyperband", "tpe+sha", "tpe"]
    hand = results["runs"]["hand grid"][0]
    assert [used for used, _ in hand] == [1, 2, 3, 4, 5]  # one epoch per configuration, in the table's order
    assert results["targets"] == [max(acc for _, acc in hand)]
    for row in results["rows"]:
        runs = results["runs"][row["arm"]][0]
        assert runs[-1][0] >= 5 and all(0.0 <= acc <= 1.0 for _, acc in runs)  # the budget was spent
        assert row["best"] == [max(acc for used, acc in runs if used <= 5)]
    assert results["rows"][0]["epochs_to_target"] == [next(u for u, a in hand if a == results["targets"][0])]
    assert (tmp_path / "bench_search.png").stat().st_size > 10_000


def test_search_benchmark_noise_floor_arm_counts_its_spread_runs_as_spent(mnist_available, tmp_path):
    stdout = run_script(
        "bench_search.py",
        "--quick",
        "--json",
        "--arms",
        "random,tpe+sha+stop",
        "--stop-patience",
        "1",
        "--test-accuracy",
        "--out",
        str(tmp_path),
    )
    results = json.loads(stdout)
    (end,) = results["ends"]["tpe+sha+stop"]
    # first judged after 2 one-epoch trials; measuring the spread (3 seeds of 1 epoch) spends the rest of the
    # 5-epoch budget, so no third trial starts, whether or not the rule fired
    assert (end["trials"], end["spread_epochs"], end["epochs"], results["stop_patience"]) == (2, 3, 5, 1)
    assert [used for used, _ in results["runs"]["tpe+sha+stop"][0]] == [1, 2]
    assert all(0.0 <= e["test_accuracy"] <= 1.0 for ends in results["ends"].values() for e in ends)
    assert results["ends"]["random"][0]["spread_epochs"] == 0


def test_search_benchmark_arithmetic():
    bench = load_script(REPO / "scripts" / "bench_search.py")
    assert bench.curve([(2, 0.5), (3, 0.7), (5, 0.6)], 5) == [0.0, 0.5, 0.7, 0.7, 0.7]
    assert bench.epochs_to_reach([(2, 0.5), (3, 0.7)], 0.6) == 3 and bench.epochs_to_reach([(2, 0.5)], 0.6) is None
    rows = bench.summarize(
        {
            "hand grid": [[(4, 0.9), (8, 0.85)]],
            "random": [[(2, 0.8), (6, 0.95)]],
            "tpe+median": [[(3, 0.92), (9, 0.99)]],
        },
        targets=[0.9],
        budget=8,
    )
    by = {r["arm"]: r for r in rows}
    assert by["tpe+median"]["best"] == [0.92]  # the trial that ended past the budget does not count
    assert (by["tpe+median"]["ratio_to_random"], by["tpe+median"]["fraction_of_hand_compute"]) == (0.5, 0.375)
    assert (by["hand grid"]["epochs_to_target"], by["random"]["epochs_to_target"]) == ([4], [6])


def test_accuracy_benchmark_quick_mode_is_well_formed():
    stdout = run_script("bench_accuracy.py", "--quick", "--json", "--epochs", "mlp-digits=4")
    results = json.loads(stdout)
    (row,) = results["rows"]
    assert (results["seeds"], row["study"], row["trials"]) == (2, "mlp-digits", 6)
    # trials trained 3 epochs; the final model the 4 asked for, on train+validation (1,797 digits less 360 for test)
    assert (row["trial_epochs"], row["trial_train_subset"], row["final_epochs"], row["final_train_examples"]) == (
        3,
        "all",
        4,
        1437,
    )
    assert len(row["test_accuracies"]) == 2 and len(set(row["test_seeds"])) == 2
    assert row["test_accuracy_mean"] == pytest.approx(sum(row["test_accuracies"]) / 2)
    assert 0.5 < row["best_val_accuracy"] <= 1 and row["cpu_seconds"] > 0 and row["threads"] == [1]


def test_scale_benchmark_counts_exactly_and_sees_the_workers_connections(postgres_server_url):
    stdout = run_script(
        "bench_scale.py",
        "--storage",
        postgres_server_url,
        "--workers",
        "1,3",
        "--trials-per-worker",
        "4",
        "--work",
        "0.05",
        "--json",
    )
    results = json.loads(stdout)
    assert [(r["workers"], r["target"], r["finished"], r["exact"], r["failed"]) for r in results["rows"]] == [
        (1, 4, 4, True, 0),
        (3, 12, 12, True, 0),
    ]
    one, three = results["rows"]
    # one worker keeps its pooled connection(s) and opens one more to claim; three keep three times as many
    assert 1 <= one["peak_connections"] <= 3 and 3 <= three["peak_connections"] <= 9
    assert one["gap_p50_ms"] is not None and one["gap_p99_ms"] >= one["gap_p50_ms"] and one["trials_per_s"] > 0


def test_search_benchmark_warm_arm_starts_from_the_hand_rows_that_fit_and_budget_can_exceed_the_grid(
    mnist_available, tmp_path
):
    stdout = run_script(
        "bench_search.py",
        "--quick",
        "--json",
        "--arms",
        "tpe+sha,tpe+sha+warm",
        "--budget",
        "7",
        "--out",
        str(tmp_path),
    )
    results = json.loads(stdout)
    assert (results["hand_grid_epochs"], results["budget_epochs"]) == (5, 7)
    assert [r["arm"] for r in results["rows"]] == ["hand grid", "tpe+sha", "tpe+sha+warm"]
    assert all(r["ratio_to_random"] is None for r in results["rows"])  # no random arm: no ratios
    for row in results["rows"][1:]:
        runs = results["runs"][row["arm"]][0]
        assert runs[-1][0] >= 7 and row["best_at_hand_compute"] == [max(a for u, a in runs if u <= 5)]
    (warm,) = results["ends"]["tpe+sha+warm"]
    # --rerun of hand-grid-000.csv: rows 22, 25 and 28 fit mlp-mnist's space; all three ran (1 epoch each, first)
    assert (warm["warm_rows"], warm["hand_rows_run"]) == (3, 3)
    assert results["ends"]["tpe+sha"][0]["warm_rows"] == 0


def test_stop_bound_reads_the_best_at_each_fraction_of_the_budget(tmp_path):
    # two repetitions of (epochs so far, value of the trial that ended there), budget 10 epochs
    runs = [[[2, 0.5], [4, 0.8], [6, 0.7], [10, 0.9]], [[5, 0.6], [8, 0.95], [10, 0.9]]]
    (tmp_path / "r.json").write_text(json.dumps({"runs": {"tpe+sha": runs}, "budget_epochs": 10}))
    stdout = run_script("stop_bound.py", str(tmp_path / "r.json"), "--json", timeout=120)
    rows = {r["fraction"]: r for r in json.loads(stdout)}
    assert rows[0.4]["best"][0] == 0.8 and math.isnan(rows[0.4]["best"][1])  # no trial had ended by 4 epochs
    assert rows[0.5]["best"] == [0.8, 0.6] and rows[0.5]["gap"] == pytest.approx([0.1, 0.35])
    assert rows[0.8]["best"] == [0.8, 0.95] and rows[0.8]["gap"] == pytest.approx([0.1, 0.0])
    assert rows[1.0]["gap"] == [0.0, 0.0] and rows[1.0]["saved"] == 0.0


def test_bench_trainer_peak_reports_each_model_and_precision_against_the_large_matmul_peak(mnist_available):
    stdout = run_script(
        "bench_trainer.py", "--peak", str(REPO / "scripts" / "data" / "mlp-mnist-trial16.json"), "--quick", "--json"
    )
    results = json.loads(stdout)
    assert results["threads"] == 1  # autotune's default
    precisions = ["fp32", "bf16"] if cpu_flags_say_bf16() else ["fp32"]
    assert [(r["model"], r["batch_size"], r["precision"], r["step"]) for r in results["rows"]] == [
        (model, batch, p, step)
        for model, batch in (("mlp-mnist trial 16", 64), ("seed cnn 32-64-fc1024", 100))
        for p in precisions
        for step in ("plain", "fused")
    ]
    for r in results["rows"]:
        assert r["large_mm_peak_gflops"] == results["peak_gflops"][r["precision"]] > 0
        assert r["fraction_of_peak"] == round(r["model_gflops"] / r["large_mm_peak_gflops"], 3)
        # the fused step's paired ratio over the plain one of the same model and precision (one repeat: one ratio)
        if r["step"] == "fused":
            plain = next(
                p
                for p in results["rows"]
                if (p["model"], p["precision"], p["step"]) == (r["model"], r["precision"], "plain")
            )
            ratio = r["fused_vs_plain"]
            assert ratio["min"] == ratio["median"] == ratio["max"]
            assert ratio["median"] == pytest.approx(r["samples_per_s"] / plain["samples_per_s"], abs=0.002)  # rounding
        else:
            assert "fused_vs_plain" not in r


def test_bench_seed_batch_times_k_seeds_batched_against_one_after_another(mnist_available):
    results = json.loads(run_script("bench_seed_batch.py", "--quick", "--seeds", "2,3", "--json"))
    assert (results["threads"], results["samples"], results["repeats"]) == (1, 512, 1)
    assert [r["seeds"] for r in results["rows"]] == [2, 3]
    pairs = {
        "batched_plain_vs_sequential_plain": ("batched_plain", "sequential_plain"),
        "batched_fused_vs_sequential_fused": ("batched_fused", "sequential_fused"),
        "batched_fused_vs_sequential_plain": ("batched_fused", "sequential_plain"),
        "stacked_vs_sequential_plain": ("stacked", "sequential_plain"),
    }
    for r in results["rows"]:
        arms = ("sequential_plain", "sequential_fused", "batched_plain", "batched_fused", "stacked")
        assert all(r[f"{arm}_per_s"] > 0 for arm in arms)
        # one repeat: each ratio is that repeat's, the rates' ratio up to their rounding to 0.1 samples/s
        for key, (arm, base) in pairs.items():
            ratio = r[key]
            assert ratio["min"] == ratio["median"] == ratio["max"]
            assert ratio["median"] == pytest.approx(r[f"{arm}_per_s"] / r[f"{base}_per_s"], abs=0.002)


def test_the_stacked_mlp_keeps_each_seed_apart():
    """Seed k's outputs depend on seed k's inputs and weights only: the batched probe trains K models, not one."""
    import torch

    bench = load_script(REPO / "scripts" / "bench_seed_batch.py")
    torch.manual_seed(0)
    model = bench.StackedMLP(3, [784, 16, 8, 10], batch_norm=True, dropout=0.0).train()
    x = torch.rand(3, 4, 784)
    out = model(x)
    changed = x.clone()
    changed[1] += 1.0  # seed 1's batch only
    again = model(changed)
    assert torch.equal(out[0], again[0]) and torch.equal(out[2], again[2]) and not torch.equal(out[1], again[1])
    assert not torch.equal(model.weights[0][0], model.weights[0][1])  # each seed its own initialisation
