"""Several workers on one study, on SQLite and PostgreSQL: exact totals, crash recovery, clear errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import optuna
import pytest
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from autotune.cli.commands import cli
from autotune.errors import StorageError
from autotune.execution import retries, runner
from autotune.spec.study import parse_spec
from tests.conftest import gated_spec, last_heartbeat, running_trial_of, started, states, tiny_digits_spec, wait_for

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("k", [2, 4])
def test_k_workers_finish_exactly_n_trials(write_spec, storage_url, k):
    path = write_spec(tiny_digits_spec(max_epochs=2))
    result = CliRunner().invoke(
        cli,
        ["run", "--study", path, "--trials", "8", "--workers", str(k), "--storage", storage_url, "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    study = optuna.load_study(study_name="tiny-digits", storage=storage_url)
    counts = Counter(t.state.name for t in study.trials)
    assert counts["COMPLETE"] + counts["PRUNED"] == 8
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0
    assert sorted(t.number for t in study.trials) == list(range(len(study.trials)))
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert len(workers) >= 2, workers
    assert {t.user_attrs["threads"] for t in study.trials} == {max(1, (os.cpu_count() or 1) // k)}
    # each worker got cores // k threads (at least 1), so k workers do not oversubscribe the machine
    assert f'"workers": {k}' in result.stdout


def test_sigkill_mid_trial_is_recovered_and_count_stays_exact(write_spec, storage_url, tmp_path, gate):
    # the first trial waits at the gate (tests/conftest.py) mid-training until it is killed: the kill
    # hits it, not whichever trial runs after some sleep
    path = write_spec(gated_spec(max_epochs=3, pruner={"name": "none"}))
    env = dict(os.environ, AUTOTUNE_HEARTBEAT_INTERVAL="1", AUTOTUNE_GRACE_PERIOD="3", OMP_NUM_THREADS="1")
    base = [sys.executable, "-m", "autotune.cli"]
    gate.hold()
    victim = subprocess.Popen(
        base + ["run", "--study", path, "--trials", "3", "--storage", storage_url, "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        gate.wait_blocked(victim.pid, procs=[victim])
        killed = running_trial_of(storage_url, victim.pid)
        assert states(storage_url)["RUNNING"] == 1
        first = last_heartbeat(storage_url, killed._trial_id)  # beaten when it was claimed
        wait_for(
            lambda: last_heartbeat(storage_url, killed._trial_id) > first,
            "a heartbeat mid-trial",
            procs=[victim],
            every=0.1,
        )  # it beats at least once more while held mid-trial
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert states(storage_url)["RUNNING"] == 1  # SIGKILL leaves it RUNNING; the heartbeat must clean up

    gate.release()
    rescuer = subprocess.run(
        base + ["worker", "--study", path, "--storage", storage_url, "-q"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert rescuer.returncode == 0, rescuer.stderr
    study = optuna.load_study(study_name="tiny-digits", storage=storage_url)
    counts = Counter(t.state.name for t in study.trials)
    assert counts["COMPLETE"] + counts["PRUNED"] == 3
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0
    assert study.trials[killed.number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params  # same parameters, run again


def test_worker_needs_an_existing_study(write_spec, tmp_path):
    path = write_spec(tiny_digits_spec())
    url = f"sqlite:///{tmp_path / 'none.db'}"
    result = CliRunner().invoke(cli, ["worker", "--study", path, "--storage", url])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: no study database at '{tmp_path / 'none.db'}' (storage '{url}')"
    ]
    assert not (tmp_path / "none.db").exists()


def test_worker_against_unreachable_database(write_spec):
    path = write_spec(tiny_digits_spec())
    result = CliRunner().invoke(
        cli, ["worker", "--study", path, "--storage", "postgresql+psycopg://postgres:pw@127.0.0.1:1/autotune"]
    )
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: cannot open storage 'postgresql+psycopg://postgres:***@127.0.0.1:1/autotune'")


def test_worker_joins_until_the_stored_target(write_spec, storage_url):
    path = write_spec(tiny_digits_spec(max_epochs=2))
    invoke = CliRunner().invoke
    assert invoke(cli, ["run", "--study", path, "--trials", "2", "--storage", storage_url, "-q"]).exit_code == 0
    idle = invoke(cli, ["worker", "--study", path, "--storage", storage_url, "--json"])
    assert idle.exit_code == 0 and '"finished": 2' in idle.stdout  # target met: nothing to do
    assert sum(states(storage_url).values()) == 2


def test_lost_connection_is_retried_then_reported(monkeypatch):
    # A stand-in for a database that stays down: the real error class, raised by a function.
    monkeypatch.setattr(retries, "RETRY_SECONDS", 1.5)
    calls = []

    def down():
        calls.append(time.monotonic())
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(
        StorageError,
        match=r"lost the connection to storage 'sqlite:///x.db' for 1.5 s "
        r"\(connection refused\); finished trials are stored",
    ):
        retries.retry(down, "sqlite:///x.db")
    assert len(calls) >= 2  # it retried before giving up

    outcomes = iter([OperationalError("SELECT 1", {}, Exception("blip")), 42])

    def flaky():
        item = next(outcomes)
        if isinstance(item, Exception):
            raise item
        return item

    assert retries.retry(flaky, "sqlite:///x.db") == 42


def test_worker_benchmark_quick_mode_is_well_formed():
    import json

    from tests.conftest import REPO

    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_workers.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    workers = results["workers"]
    assert set(workers) == {"1 worker", "2 workers, fresh processes", "2 workers, forked"}
    one = workers["1 worker"]
    for row in workers.values():
        assert row["seconds"] > 0 and row["startup_s"] > 0 and len(row["runs"]) == 1
        assert row["ratio_vs_1"] == round(row["trials_per_hour"] / one["trials_per_hour"], 2)
        assert row["extra_startup_s"] == round(row["startup_s"] - one["startup_s"], 2)
    storage = results["storage_ms_per_trial"]
    assert {"in-memory", "sqlite"} <= set(storage)
    for row in storage.values():
        assert row["optuna"] > 0 and row["autotune"] > 0


def _count_loads(monkeypatch, log):
    """Record the process of every data load of this process and of anything forked from it."""
    real = runner.load_data

    def counting(*args, **kwargs):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "load_data", counting)


def test_forked_workers_use_the_data_loaded_once(storage_url, monkeypatch, tmp_path):
    # one thread per worker on the CPU: the workers are forked after this process loaded the data
    log = tmp_path / "loads"
    _count_loads(monkeypatch, log)
    spec = parse_spec(tiny_digits_spec(max_epochs=2))
    summary = runner.run_study(spec, n_trials=6, storage=storage_url, workers=2, threads=1, device="cpu")
    assert summary.finished == 6 and summary.workers == 2
    assert log.read_text().split() == [str(os.getpid())]  # loaded here, once; no worker loaded it again
    trials = optuna.load_study(study_name="tiny-digits", storage=storage_url).trials
    pids = {t.user_attrs["worker"].rsplit(":", 1)[1] for t in trials}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # two worker processes ran the trials
    assert {t.user_attrs["threads"] for t in trials} == {1}
    assert sorted(t.number for t in trials) == list(range(6))


def test_workers_start_as_fresh_processes_when_fork_is_turned_off(storage_url, monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOTUNE_FORK_WORKERS", "0")
    spec = parse_spec(tiny_digits_spec(max_epochs=2))
    summary = runner.run_study(spec, n_trials=4, storage=storage_url, workers=2, threads=1, device="cpu")
    assert summary.finished == 4
    trials = optuna.load_study(study_name="tiny-digits", storage=storage_url).trials
    assert len({t.user_attrs["worker"] for t in trials}) == 2 and len(trials) == 4


def test_ctrl_c_stops_forked_workers_and_fails_their_trials(write_spec, storage_url, tmp_path, gate):
    # both forked workers are held mid-trial at the gate; SIGINT goes to the command only, which passes it on
    path = write_spec(gated_spec(max_epochs=3, pruner={"name": "none"}))
    gate.hold()
    with started(
        [
            sys.executable,
            "-m",
            "autotune.cli",
            "run",
            "--study",
            path,
            "--trials",
            "4",
            "--workers",
            "2",
            "--threads",
            "1",
            "--storage",
            storage_url,
            "-q",
        ],
        gate,
        env=dict(os.environ),
        cwd=tmp_path,
    ) as run:
        wait_for(lambda: len(gate.blocked()) == 2, "both workers' trials at the gate", procs=[run])
        assert run.pid not in gate.blocked()  # the trials run in the two forked workers, not in the command
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert err.splitlines() == [
        "Error: interrupted: 0 of 4 trials finished in study 'tiny-digits'; the running trials "
        "were marked FAIL; run the same command again to continue"
    ], err
    assert "Traceback" not in err
    assert states(storage_url) == Counter({"FAIL": 2})


def test_auto_is_one_worker_per_core_on_the_cpu_and_one_per_gpu_on_cuda(monkeypatch):
    from autotune.execution import workers

    monkeypatch.setattr("autotune.execution.workers.usable_cores", lambda: 6)
    assert workers.auto_count("cpu", threads=None, target=100, pinned=False) == 6
    assert workers.auto_count("cpu", threads=2, target=100, pinned=False) == 3  # --threads 2: cores // 2
    assert workers.auto_count("cpu", threads=8, target=100, pinned=False) == 1
    assert workers.auto_count("cpu", threads=None, target=4, pinned=False) == 4  # never more than the trials
    monkeypatch.setattr("autotune.execution.workers.usable_cores", lambda: 64)
    assert workers.auto_count("cpu", threads=None, target=100, pinned=False) == workers.AUTO_MAX_CPU_WORKERS == 8
    assert workers.auto_count("mps", threads=None, target=100, pinned=False) == 1
    assert workers.auto_count("cuda:0", threads=None, target=100, pinned=True) == 1  # --device cuda:N
    import torch  # no GPU here: torch's count is replaced, the rule is what is tested

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,3")
    assert workers.auto_count("cuda:0", threads=None, target=100, pinned=False) == 2


def test_workers_auto_starts_one_worker_per_core(write_spec, monkeypatch, tmp_path):
    from autotune.hardware.devices import usable_cores

    if usable_cores() < 2:
        pytest.skip("one usable core: auto is one worker, as before")
    monkeypatch.setenv("AUTOTUNE_WORKERS", "auto")  # as a user who sets it for every run
    path = write_spec(tiny_digits_spec(max_epochs=1, pruner={"name": "none"}))
    result = CliRunner().invoke(
        cli, ["run", "--study", path, "--trials", "4", "--device", "cpu", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f'"workers": {min(4, 8, usable_cores())}' in result.stdout
    trials = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db").trials
    assert len(trials) == 4
    assert {t.user_attrs["threads"] for t in trials} == {1}  # one thread each: forked workers, not this process
    assert str(os.getpid()) not in {t.user_attrs["worker"].rsplit(":", 1)[1] for t in trials}
