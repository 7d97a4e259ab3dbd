"""The command line: help everywhere, run and resume, listings, and every bad input as one Error line."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import optuna
import pytest

from autotune.cli.commands import cli
from tests.conftest import (
    REPO,
    assert_one_error_line,
    file_digest,
    gated_spec,
    invoke,
    one_error_line,
    tiny_digits_spec,
)


def test_every_command_and_option_has_help():
    commands = cli.commands
    assert {"run", "studies"} <= set(commands)
    manual = (REPO / "docs" / "commands.md").read_text()
    for name, command in commands.items():
        assert command.help, name
        assert f"autotune {name}" in manual, f"docs/commands.md does not document `autotune {name}`"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts}"
        result = invoke(name, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_help_is_instant_without_torch():
    code = "import sys; from autotune.cli.commands import cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_lists_the_commands_without_importing_them_or_optuna():
    code = (
        "import sys; from autotune.cli.commands import main; sys.argv = ['autotune', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('optuna', 'torch', 'autotune.cli.')))\n"
        "print(loaded, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "['autotune.cli.commands']"
    assert "  run        Search a study's space until it holds N finished trials" in done.stdout


def test_the_command_list_says_what_each_command_says_of_itself():
    """``autotune --help`` lists each command from COMMANDS without importing it: the line must be the command's."""
    from click.utils import make_default_short_help

    from autotune.cli.commands import COMMANDS

    for name, (module, function, first) in COMMANDS.items():
        command = cli.commands[name]
        assert (command.name, command.callback.__module__, command.callback.__name__) == (
            name,
            f"autotune.cli.{module}",
            function,
        )
        for limit in (45, 60, 1000):
            assert make_default_short_help(first, limit) == command.get_short_help_str(limit), (name, limit)


def test_run_then_top_up(write_spec):
    path = write_spec(tiny_digits_spec())
    first = invoke("run", "--study", path, "--trials", "3", "--quiet")
    assert first.exit_code == 0, first.output
    assert "3 of 3 finished trials" in first.stdout
    assert "Best val_accuracy" in first.stdout
    again = invoke("run", "--study", path, "--trials", "5", "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["finished_before"], summary["finished"], summary["target"]) == (3, 5, 5)
    study = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")
    assert len(study.trials) == 5
    assert [t.number for t in study.trials] == [0, 1, 2, 3, 4]
    done = invoke("run", "--study", path, "--trials", "5", "--quiet")
    assert "0 finished during this command" in done.stdout
    assert len(optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db").trials) == 5


def test_timeout_stops_starting_new_trials(write_spec):
    result = invoke("run", "--study", write_spec(tiny_digits_spec()), "--trials", "500", "--timeout", "1", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert 1 <= summary["finished"] < 500
    study = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))


def test_progress_lines_when_not_a_terminal(write_spec):
    result = invoke("run", "--study", write_spec(tiny_digits_spec()), "--trials", "2")
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/2] trial 0 ") and lines[1].startswith("[2/2] trial 1 ")
    # accuracies in percent, as the summary and the report give them
    assert re.match(
        r"\[1/2\] trial 0 complete: val_accuracy=\d{1,3}\.\d\d% epochs=3 best=\d{1,3}\.\d\d% \(", lines[0]
    ), lines[0]
    assert "best=" in lines[1]


def test_storage_from_environment_and_study_name(write_spec, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("AUTOTUNE_STORAGE", url)
    result = invoke("run", "--study", write_spec(tiny_digits_spec()), "--trials", "1", "--study-name", "other", "-q")
    assert result.exit_code == 0, result.output
    assert optuna.get_all_study_names(storage=url) == ["other"]
    assert not Path("autotune.db").exists()


def test_studies_lists_specs_and_stored_studies(write_spec):
    empty = invoke("studies")
    assert empty.exit_code == 0
    assert "mlp-mnist" in empty.stdout and "no study database at 'autotune.db'" in empty.stdout
    assert not Path("autotune.db").exists(), "listing must not create a database"
    invoke("run", "--study", write_spec(tiny_digits_spec()), "--trials", "2", "-q")
    listing = json.loads(invoke("studies", "--json").stdout)
    (row,) = listing["studies"]
    assert row["name"] == "tiny-digits" and row["n_trials"] == 2
    assert sum(row["states"].get(s, 0) for s in ("COMPLETE", "PRUNED")) == 2
    study = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")
    assert row["best_value"] == study.best_value
    assert {s["name"] for s in listing["specs"]} >= {"mlp-mnist", "mlp-digits", "mlp-sine"}
    text = invoke("studies").stdout
    assert "tiny-digits" in text and f"{study.best_value * 100:.2f}%" in text  # accuracies in percent everywhere


@pytest.fixture
def existing_db(write_spec):
    """A study database with one real study in it; tests check it is left byte-identical."""
    path = write_spec(tiny_digits_spec())
    assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
    return Path("autotune.db")


BAD_RUNS = [
    (["--trials", "0"], ["'--trials'", "0 is not in the range x>=1"]),
    (["--trials", "-3"], ["'--trials'", "-3 is not in the range x>=1"]),
    (["--trials", "many"], ["'--trials'", "'many' is not a valid integer"]),
    (["--pruner", "asha"], ["'--pruner'", "'asha' is not one of 'median', 'successive_halving', 'hyperband', 'none'"]),
    (["--threads", "0"], ["'--threads'", "0 is not in the range x>=1"]),
    (["--workers", "0"], ["'--workers'", "0 is not in the range x>=1"]),
    (["--timeout", "-5"], ["'--timeout'", "-5.0 is not in the range x>0"]),
    (["--storage", "foo://bar"], ["unknown storage scheme 'foo'", "allowed: sqlite:///PATH"]),
    (["--storage", "not a url"], ["storage URL 'not a url' cannot be parsed"]),
    (["--storage", "sqlite:////no/such/folder/x.db"], ["folder '/no/such/folder' does not exist"]),
    (
        ["--storage", "postgresql+psycopg://postgres:secret@127.0.0.1:1/nodb"],
        ["cannot open storage 'postgresql+psycopg://postgres:***@127.0.0.1:1/nodb'"],
    ),
    (["--data-dir", "/no/such/data"], ["data folder '/no/such/data'"]),
]


@pytest.mark.parametrize("extra, fragments", BAD_RUNS, ids=[" ".join(e) for e, _ in BAD_RUNS])
def test_bad_run_options(existing_db, write_spec, extra, fragments):
    before = file_digest(existing_db)
    spec = tiny_digits_spec(dataset="mnist") if "--data-dir" in extra else tiny_digits_spec()
    if "--data-dir" in extra:
        spec["space"].pop("units")
    result = invoke("run", "--study", write_spec(spec, "other.yaml"), *extra)
    assert_one_error_line(result, *fragments)
    assert "secret" not in result.output
    assert file_digest(existing_db) == before


BAD_SPECS = [
    ("unknown-key.yaml", tiny_digits_spec(colour="blue"), "colour: unknown key"),
    ("bad-range.yaml", tiny_digits_spec(space={"lr": {"low": 0.1, "high": 0.01}}), "low must be <= high"),
    ("bad-log.yaml", tiny_digits_spec(space={"lr": {"low": -1.0, "high": 0.1, "log": True}}), "space.lr.low"),
    ("bad-act.yaml", tiny_digits_spec(space={"activation": ["swish"]}), "must be one of relu"),
    ("bad-init.yaml", tiny_digits_spec(space={"init": ["he"]}), "space.init.choices[0]"),
    ("bad-opt.yaml", tiny_digits_spec(fixed={"optimizer": "lbfgs"}), "fixed.optimizer"),
    ("bad-type.yaml", tiny_digits_spec(max_epochs="ten"), "max_epochs: must be an integer, got 'ten'"),
]


@pytest.mark.parametrize("name, data, fragment", BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_spec_files(existing_db, write_spec, name, data, fragment):
    before = file_digest(existing_db)
    result = invoke("run", "--study", write_spec(data, name))
    assert_one_error_line(result, name, fragment, code=1)
    assert file_digest(existing_db) == before


def test_unknown_study_name(existing_db):
    before = file_digest(existing_db)
    assert_one_error_line(invoke("run", "--study", "mlp-cifar"), "unknown study 'mlp-cifar'", "mlp-mnist")
    assert file_digest(existing_db) == before


def test_changed_spec_cannot_silently_join_an_old_study(existing_db, write_spec):
    before = file_digest(existing_db)
    changed = tiny_digits_spec(max_epochs=5)
    result = invoke("run", "--study", write_spec(changed, "changed.yaml"), "--trials", "3")
    assert_one_error_line(
        result, "study 'tiny-digits' in this storage was made from a different spec", "use --study-name"
    )
    assert file_digest(existing_db) == before


def test_missing_option():
    assert_one_error_line(invoke("run"), "Missing option '--study'", code=2)


def test_studies_on_a_bad_storage():
    assert_one_error_line(invoke("studies", "--storage", "oracle://x"), "unknown storage scheme 'oracle'")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_stops_cleanly_and_resumes(write_spec, tmp_path, sig, gate):
    # the first trial waits at the gate (tests/conftest.py) mid-training: the signal finds it running
    spec = gated_spec(max_epochs=3, pruner={"name": "none"})
    spec["space"]["lr"] = {"low": 1e-3, "high": 1e-2}
    path = write_spec(spec)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "autotune.cli", "run", "--study", path, "--trials", "2", "-q"]
    gate.hold()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        gate.wait_blocked(proc.pid, procs=[proc])
        with sqlite3.connect(tmp_path / "autotune.db") as con:
            assert con.execute("select count(*) from trials where state='RUNNING'").fetchone()[0] == 1
        proc.send_signal(sig)
        gate.release()  # were the signal's KeyboardInterrupt swallowed, the stop still comes after the epoch
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert one_error_line(err).startswith("Error: interrupted: 0 of 2 trials finished in study 'tiny-digits'")
    storage = f"sqlite:///{tmp_path / 'autotune.db'}"
    study = optuna.load_study(study_name="tiny-digits", storage=storage)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]  # not left RUNNING
    rerun = subprocess.run(cmd + ["--quiet"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    states = [t.state.name for t in optuna.load_study(study_name="tiny-digits", storage=storage).trials]
    assert states == ["FAIL", "COMPLETE", "COMPLETE"]


def test_the_summary_adds_up_and_says_what_to_do_next(write_spec, tmp_path):
    path = write_spec(tiny_digits_spec(max_epochs=1, pruner={"name": "none"}))
    assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
    study = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)  # a failed trial is not a finished one
    again = invoke("run", "--study", path, "--trials", "2", "-q")
    first, hint = again.stdout.splitlines()[0], again.stdout.splitlines()[-1]
    assert first.startswith(
        "Study 'tiny-digits' in sqlite:///autotune.db: 2 of 2 finished trials (2 complete); "
        "not counted: 1 fail; 0 finished during this command ("
    )
    assert hint == (
        "Next: autotune report --study tiny-digits (tables, figures, analysis); autotune confirm --study "
        "tiny-digits (the top 5 over 3 seeds: is the best real?); autotune export --study "
        "tiny-digits (best configuration, final model); autotune dashboard (live view)."
    )
    other = invoke("run", "--study", path, "--trials", "2", "-q", "--storage", f"sqlite:///{tmp_path / 'o.db'}")
    assert f"autotune report --study tiny-digits --storage sqlite:///{tmp_path / 'o.db'} (" in other.stdout


def test_the_next_step_hint_can_be_pasted(monkeypatch):
    """A hidden password cannot be pasted back: the hint names a placeholder and says why; the URL that
    $AUTOTUNE_STORAGE names needs no option; a path with a space is quoted for the shell."""
    from autotune.storage.studies import storage_option as next_storage

    monkeypatch.delenv("AUTOTUNE_STORAGE", raising=False)
    assert next_storage("sqlite:///autotune.db") == ("", "")
    assert next_storage("sqlite:///my dir/a.db") == (" --storage 'sqlite:///my dir/a.db'", "")
    assert next_storage("postgresql://me:***@127.0.0.1:5432/db") == (
        " --storage URL",
        " (URL: postgresql://me:***@127.0.0.1:5432/db with its password, which is not printed)",
    )
    monkeypatch.setenv("AUTOTUNE_STORAGE", "postgresql://me:secret@127.0.0.1:5432/db")
    assert next_storage("postgresql://me:***@127.0.0.1:5432/db") == ("", "")


def test_replay_stores_are_listed_apart_from_studies(study_path):
    assert invoke("replay", "--study", study_path, "--trial", "best").exit_code == 0
    listing = invoke("studies")
    studies = listing.stdout.split("Studies in sqlite:///autotune.db:")[1]
    assert "tiny-digits:replays" not in studies.split("Replay stores")[0]  # not a row of the studies table
    assert "  Replay stores (runs of replay, ablate and sweep): tiny-digits:replays (1 runs)" in studies
    data = json.loads(invoke("studies", "--json").stdout)
    assert [s["name"] for s in data["studies"]] == ["tiny-digits"]
    assert data["replay_stores"] == [{"name": "tiny-digits:replays", "replays_of": "tiny-digits", "runs": 1}]


def test_ablate_and_sweep_say_what_ran_and_where_they_wrote(study_path):
    ablate = invoke("ablate", "--study", study_path, "--seeds", "2", "--epochs", "1", "--out", "abl")
    assert ablate.exit_code == 0, ablate.output
    progress = ablate.stderr.splitlines()  # it printed "best: best done" once, then "best: 2 seed(s) done"
    rows = json.loads(Path("abl/ablation.json").read_text())["rows"]
    loo = [r["component"] for r in rows if r["kind"] == "leave-one-out"]
    path = [r["component"] for r in rows if r["kind"] == "path"]
    assert len(path) >= 2
    # the path's last two steps are the best configuration without one component, then the best
    # configuration itself: both already ran as rows above, so their runs are reused
    assert progress == ["  best configuration: done (2 seeds)", "  baseline: done (2 seeds)"] + [
        f"  best without {c}: done (2 seeds)" for c in loo
    ] + [
        f"  ablation path, baseline + {' + '.join(path[: i + 1])}: done (2 seeds"
        + (", all reused from earlier runs)" if i >= len(path) - 2 else ")")
        for i in range(len(path))
    ]
    assert ablate.stdout.splitlines()[-1] == (
        "Written to abl/ (ablation.csv, ablation.docx, ablation.json, ablation.md, ablation.png)"
    )
    sweep = invoke("sweep", "--study", study_path, "--param", "lr", "--values", "0.01", "--epochs", "1")
    assert sweep.stdout.splitlines()[-1] == (
        "Written to sweep-tiny-digits/ (sweep-lr.csv, sweep-lr.json, sweep-lr.md, sweep-lr.png)"
    )
