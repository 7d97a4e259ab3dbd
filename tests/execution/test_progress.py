"""Progress display: the live bar on a terminal and the plain lines in logs."""

from __future__ import annotations

import io

from rich.console import Console

from autotune.execution.progress import LineProgress, LiveProgress, Progress, make_progress
from autotune.execution.runner import run_study
from autotune.spec.study import parse_spec
from tests.conftest import tiny_digits_spec


def test_live_bar_shows_trials_epochs_and_best():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160)
    summary = run_study(parse_spec(tiny_digits_spec()), n_trials=2, progress=LiveProgress(console))
    text = out.getvalue()
    assert "tiny-digits" in text
    assert "2/2" in text
    assert "epoch 3/3" in text or "epoch 2/3" in text
    assert f"best val_accuracy {summary.best_value * 100:.2f}%" in text  # in percent, as the summary gives it


def test_line_progress_one_line_per_trial():
    out = io.StringIO()
    run_study(parse_spec(tiny_digits_spec()), n_trials=2, progress=LineProgress(out))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0] == (
        "data: digits (10 classes, inputs 1x8x8): 1150 train / 287 validation examples, 0.4 MB in memory on cpu"
    )
    assert lines[1].startswith("[1/2] trial 0 ") and lines[2].startswith("[2/2] trial 1 ")


def test_quiet_prints_nothing(capsys):
    progress = make_progress(quiet=True)
    assert type(progress) is Progress
    run_study(parse_spec(tiny_digits_spec()), n_trials=1, progress=progress)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_live_bar_follows_forked_workers_and_shows_their_note_once():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160)
    summary = run_study(
        parse_spec(tiny_digits_spec()), n_trials=4, workers=2, threads=1, device="cpu", progress=LiveProgress(console)
    )
    text = out.getvalue()
    assert summary.workers == 2 and "4/4" in text
    assert f"best val_accuracy {summary.best_value * 100:.2f}%" in text
    assert text.count("data: digits (10 classes") == 1  # both workers print it; the bar shows it once


def test_line_progress_prefixes_each_workers_lines():
    out = io.StringIO()
    run_study(
        parse_spec(tiny_digits_spec()), n_trials=4, workers=2, threads=1, device="cpu", progress=LineProgress(out)
    )
    lines = out.getvalue().splitlines()
    assert all(line.startswith(("w1 ", "w2 ")) for line in lines), lines
    assert sum(" data: digits " in line for line in lines) == 2  # one note per worker
    done = [int(line.split("[", 1)[1].split("/", 1)[0]) for line in lines if "] trial " in line]
    # one line per trial; two workers finishing together may both count the same finished total, the last sees 4
    assert len(done) == 4 and max(done) == 4


def test_quiet_prints_nothing_from_workers_either(capfd):
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # Optuna's own "study created" line, as the CLI does
    try:
        run_study(parse_spec(tiny_digits_spec()), n_trials=2, workers=2, threads=1, device="cpu", progress=Progress())
    finally:
        optuna.logging.set_verbosity(before)
    captured = capfd.readouterr()  # the workers' lines, were they passed on, would reach this fd 2
    assert captured.out == "" and captured.err == ""
