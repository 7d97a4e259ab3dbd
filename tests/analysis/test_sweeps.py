"""One-factor sweeps on a real digits study: one row per value, the epochs budget too."""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from tests.conftest import assert_one_error_line, file_digest, invoke


def test_sweep_has_one_row_per_value(study_path):
    result = invoke(
        "sweep",
        "--study",
        study_path,
        "--param",
        "batch_size",
        "--values",
        "32,64,128",
        "--epochs",
        "2",
        "--json",
        "--out",
        "sw",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(Path("sw/sweep-batch_size.json").read_text())
    assert [r["config"]["batch_size"] for r in data["rows"]] == [32, 64, 128]
    assert all(r["seconds"]["mean"] > 0 for r in data["rows"])
    assert Path("sw/sweep-batch_size.png").stat().st_size > 0
    epochs = invoke("sweep", "--study", study_path, "--param", "epochs", "--values", "1,2", "--out", "sw2")
    assert epochs.exit_code == 0
    rows = json.loads(Path("sw2/sweep-epochs.json").read_text())["rows"]
    assert [r["runs"][0]["epochs"] for r in rows] == [1, 2]
    # #31: the table says which trial it started from, the seeds and the budget
    best = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db").best_trial
    seed = data["rows"][0]["runs"][0]["seed"]
    caption = (
        f"Sweep of batch_size in study 'tiny-digits', every other value held at trial {best.number}'s (the "
        f"search's best): 1 seed(s) per value ({seed}), 2 epoch(s) per run (the trial trained "
        f"{best.user_attrs['epochs']})."
    )
    assert data["caption"] == caption
    assert Path("sw/sweep-batch_size.md").read_text().splitlines()[0] == caption


def test_a_bad_value_late_in_the_list_stops_the_sweep_before_anything_trains(study_path):
    before = file_digest(Path("autotune.db"))
    result = invoke("sweep", "--study", study_path, "--param", "epochs", "--values", "1,0")
    assert_one_error_line(result, "--values: epochs must be integers >= 1, got 0")
    assert file_digest(Path("autotune.db")) == before  # before: epochs=1 was trained and stored first
    assert not Path("sweep-tiny-digits").exists()


def test_a_seed_batched_sweep_says_so_in_its_caption_and_records_each_batch(study_path):
    args = ["sweep", "--study", study_path, "--param", "batch_size", "--values", "32,64", "--seeds", "2", "--epochs"]
    assert invoke(*args, "2", "--batch-seeds", "--out", "sw").exit_code == 0
    data = json.loads(Path("sw/sweep-batch_size.json").read_text())
    seeds = [run["seed"] for run in data["rows"][0]["runs"]]
    assert [[run["batch"] for run in row["runs"]] for row in data["rows"]] == [[seeds, seeds], [seeds, seeds]]
    assert f"2 seed(s) per value ({seeds[0]}, {seeds[1]}; trained at once, as one batched model), " in data["caption"]
    assert invoke(*args, "2", "--out", "sw2").exit_code == 0  # one by one: the caption says nothing of batches
    plain = json.loads(Path("sw2/sweep-batch_size.json").read_text())
    assert f"({seeds[0]}, {seeds[1]}), " in plain["caption"]
    assert [run["batch"] for run in plain["rows"][0]["runs"]] == [None, None]
