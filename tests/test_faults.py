"""Faults with real processes, real files and real databases: killed workers, signals, a restarted
PostgreSQL server, full and read-only disks, damaged SQLite files.

The promise under test: every finished trial is kept intact, nothing is left RUNNING, the study
can be resumed, and each failure is one clear ``Error: …`` line naming what failed.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import optuna
import pytest
import yaml

from tests.conftest import (
    REPO,
    assert_one_error_line,
    file_digest,
    free_port,
    gated_spec,
    invoke,
    last_heartbeat,
    one_error_line,
    running_trial_of,
    started,
    states,
    tiny_digits_spec,
    wait_for,
)
from tests.conftest import trials_of as _trials

BASE = [sys.executable, "-m", "autotune.cli"]


def _env(**extra: str) -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1", AUTOTUNE_PROGRESS="lines", **extra)


def _snapshot(url: str) -> dict[int, tuple]:
    """What must never change once a trial finished: state, values, params, intermediate values, attrs."""
    return {
        t.number: (
            t.state.name,
            t.values,
            t.params,
            t.intermediate_values,
            t.user_attrs.get("seed"),
            t.user_attrs.get("val_accuracy"),
        )
        for t in _trials(url)
        if t.state.is_finished() and t.state.name != "FAIL"
    }


def _assert_intact(url: str, before: dict[int, tuple]) -> None:
    after = _snapshot(url)
    assert {n: after.get(n) for n in before} == before


def _assert_clean_end(url: str, target: int) -> None:
    trials = _trials(url)
    counts = Counter(t.state.name for t in trials)
    assert counts["COMPLETE"] + counts["PRUNED"] == target, counts
    assert counts["RUNNING"] == 0 and counts["WAITING"] == 0, counts
    for t in trials:
        if t.state.name == "COMPLETE":  # a stored value is the one the trial measured, not a torn write
            assert t.value == t.user_attrs["val_accuracy"] == t.intermediate_values[t.user_attrs["epochs"]]


# --------------------------------------------------------------------------------------
# Killed and interrupted processes


@pytest.mark.slow
def test_a_storm_of_sigkills_loses_and_duplicates_nothing(tmp_path, storage_url, gate):
    """Three workers; ten times one of them is SIGKILLed mid-trial and a new one takes its place.

    Every trial waits at the gate (tests/conftest.py) in its first training step, so each kill hits
    a trial the database shows RUNNING in the victim's name, whatever the machine's speed; after
    kills 3, 6 and 9 one held trial is let through to finish mid-storm. Then the gate opens.
    """
    target = 10
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(gated_spec(max_epochs=3, pruner={"name": "none"}), sort_keys=False))
    env = _env(AUTOTUNE_HEARTBEAT_INTERVAL="1", AUTOTUNE_GRACE_PERIOD="3")
    # in this process (torch is imported once): one finished trial, then the target (a trial may slip in
    # before the 1 ms timeout: harmless, the storm needs only that the target is not yet met)
    assert invoke("run", "--study", "s.yaml", "--trials", "1", "--storage", storage_url, "-q").exit_code == 0
    assert (
        invoke(
            "run", "--study", "s.yaml", "--trials", str(target), "--storage", storage_url, "--timeout", "0.001", "-q"
        ).exit_code
        == 0
    )
    worker = BASE + ["worker", "--study", "s.yaml", "--storage", storage_url, "-q"]

    def start() -> subprocess.Popen:
        return subprocess.Popen(worker, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    rng = random.Random(0)
    gate.hold()
    procs = [start() for _ in range(3)]
    killed, passed = [], []
    try:
        while len(killed) < 10:
            held = wait_for(
                lambda: sorted(gate.blocked() & {p.pid for p in procs}), "a worker held mid-trial", procs=procs
            )
            pid = rng.choice(held)
            trial = running_trial_of(storage_url, pid)  # the database agrees: its trial is RUNNING, mid-training
            assert last_heartbeat(storage_url, trial._trial_id) is not None
            if len(killed) in (3, 6, 9) and len(passed) < len(killed) // 3:
                gate.let_through(pid)  # this one finishes while the storm goes on
                wait_for(
                    lambda: _trials(storage_url)[trial.number].state.is_finished(),
                    f"trial {trial.number} to finish",
                    procs=procs,
                    every=0.1,
                )
                assert _trials(storage_url)[trial.number].state.name == "COMPLETE"
                passed.append(trial.number)
                continue
            victim = next(p for p in procs if p.pid == pid)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            gate.forget(pid)
            killed.append(trial.number)
            procs = [p for p in procs if p is not victim] + [start()]
        assert len(set(killed)) == 10 and len(passed) == 3, (killed, passed)
        before = _snapshot(storage_url)
        assert set(passed) | {0} <= set(before)
        gate.release()
        for p in procs:
            assert p.wait(timeout=300) == 0, p.stderr.read().decode()
        finish = subprocess.run(worker, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert finish.returncode == 0, finish.stderr
    finally:
        gate.release()
        for p in procs:  # never leave a worker behind, whatever failed
            if p.poll() is None:
                p.kill()
                p.wait()
    _assert_clean_end(storage_url, target)
    _assert_intact(storage_url, before)
    trials = _trials(storage_url)
    assert Counter(t.state.name for t in trials)["FAIL"] >= 1  # the killed trials, failed by heartbeat
    assert all(trials[n].state.name == "FAIL" for n in killed), [(n, trials[n].state.name) for n in killed]
    assert [t.number for t in trials] == list(range(len(trials)))  # no duplicated or lost trial numbers


def _signal_when(cmd: list[str], cwd: Path, appears: Path, sig: int) -> tuple[int, str]:
    """Start ``cmd``, send ``sig`` the moment ``appears`` exists; its exit code and stderr."""
    proc = subprocess.Popen(cmd, env=_env(), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not appears.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def _assert_stopped_cleanly(code: int, err: str) -> None:
    assert code == 130, err
    one_error_line(err, "interrupted")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_study_creation_stops_cleanly_and_the_rerun_works(tmp_path, sig):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(tiny_digits_spec(), sort_keys=False))
    url = f"sqlite:///{tmp_path / 'autotune.db'}"
    cmd = BASE + ["run", "--study", "s.yaml", "--trials", "2", "--storage", url, "-q"]
    # the moment the database file appears, the study is being created
    _assert_stopped_cleanly(*_signal_when(cmd, tmp_path, tmp_path / "autotune.db", sig))
    rerun = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    _assert_clean_end(url, 2)


#: Phases of `report` and where each is held (tests/holds.py): the signal lands inside that phase.
REPORT_PHASES = {
    "reading the study": "autotune.storage.stored:open_context>sqlalchemy.engine.default:DefaultDialect.do_execute",
    "a database query of the report": (
        "autotune.reporting.reports:build_report>sqlalchemy.engine.default:DefaultDialect.do_execute"
    ),
    "drawing the figures": "autotune.reporting.figures:draw",
    "writing the page": "autotune.reporting.report_page:html",
}


@pytest.fixture(scope="module")
def reportable(tmp_path_factory) -> Path:
    """A finished 12-trial study, copied by each test that signals a report of it."""
    folder = tmp_path_factory.mktemp("reportable")
    (folder / "s.yaml").write_text(yaml.safe_dump(tiny_digits_spec(max_epochs=2), sort_keys=False))
    result = invoke(
        "run",
        "--study",
        str(folder / "s.yaml"),
        "--trials",
        "12",
        "--storage",
        f"sqlite:///{folder / 'autotune.db'}",
        "-q",
    )
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("phase", sorted(REPORT_PHASES))
def test_a_signal_during_a_report_stops_cleanly_and_leaves_the_database_alone(tmp_path, reportable, gate, phase):
    for name in ("s.yaml", "autotune.db"):
        shutil.copy(reportable / name, tmp_path / name)
    url = f"sqlite:///{tmp_path / 'autotune.db'}"
    before = file_digest(tmp_path / "autotune.db")
    args = ["report", "--study", "s.yaml", "--storage", url, "--out", "rep"]
    gate.hold()
    with started(
        [sys.executable, "-m", "tests.holds", REPORT_PHASES[phase], "--"] + args,
        gate,
        env=_env(PYTHONPATH=str(REPO)),
        cwd=tmp_path,
    ) as proc:
        wait_for(lambda: proc.pid in gate.blocked(), f"the report to reach {phase}", procs=[proc])
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    written = "nothing was written" if phase == "reading the study" else "the report in 'rep' is incomplete"
    verb = "reading the study" if phase == "reading the study" else "writing the report"
    assert err.splitlines() == [
        f"Error: interrupted while {verb}: {written}; the study database was not changed; "
        "run the same command again to write the whole report"
    ], err
    assert out == ""
    assert (tmp_path / "rep").exists() == (phase != "reading the study")
    assert not (tmp_path / "rep" / "index.html").exists()
    assert file_digest(tmp_path / "autotune.db") == before
    again = subprocess.run(BASE + args, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "rep" / "index.html").is_file()
    assert file_digest(tmp_path / "autotune.db") == before


# --------------------------------------------------------------------------------------
# A PostgreSQL server restarted under running workers


@pytest.fixture
def own_postgres(tmp_path, postgres_server_url):
    """A private PostgreSQL server (scripts/pg.sh) this test may restart; needs the server binaries."""
    port = free_port()
    folder = Path("/tmp") / f"autotune-pg-{uuid.uuid4().hex[:8]}"
    pg = ["bash", str(REPO / "scripts" / "pg.sh")]
    started = subprocess.run(pg + ["start", str(folder), str(port)], capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    yield (
        started.stdout.strip(),
        lambda: subprocess.run(pg + ["restart", str(folder), str(port)], check=True, capture_output=True, timeout=120),
    )
    subprocess.run(pg + ["stop", str(folder)], capture_output=True, timeout=120)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_workers_ride_out_a_postgresql_restart(tmp_path, own_postgres, gate):
    """Two workers, each with a trial held mid-training at the gate (RUNNING in the database, heartbeats going)
    and one finished trial each; the server restarts under them. The same run then finishes the study: the held
    trials complete, nothing is lost, duplicated or left RUNNING, and the run says nothing but its own output."""
    url, restart = own_postgres
    target = 8
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(gated_spec(max_epochs=3, pruner={"name": "none"}), sort_keys=False))
    env = _env(AUTOTUNE_HEARTBEAT_INTERVAL="1", AUTOTUNE_GRACE_PERIOD="20", AUTOTUNE_DB_RETRY_SECONDS="60")
    gate.hold()
    with started(
        BASE
        + [
            "run",
            "--study",
            "s.yaml",
            "--trials",
            str(target),
            "--workers",
            "2",
            "--threads",
            "1",
            "--storage",
            url,
            "-q",
        ],
        gate,
        env=env,
        cwd=tmp_path,
    ) as run:
        workers = wait_for(
            lambda: len(gate.blocked()) == 2 and gate.blocked(), "both workers held mid-trial", procs=[run]
        )
        for pid in sorted(workers):  # one trial each finishes; each worker's next trial is held again
            finishing = running_trial_of(url, pid)
            gate.let_through(pid)
            wait_for(
                lambda: _trials(url)[finishing.number].state.name == "COMPLETE",
                f"trial {finishing.number}",
                procs=[run],
                every=0.1,
            )
            wait_for(lambda: pid in gate.blocked(), f"worker {pid}'s next trial to be held", procs=[run])
        held = {running_trial_of(url, pid).number for pid in workers}  # the database shows them RUNNING now
        assert states(url) == Counter({"COMPLETE": 2, "RUNNING": 2}), states(url)
        assert all(last_heartbeat(url, t._trial_id) is not None for t in _trials(url) if t.number in held)
        before = _snapshot(url)
        restart()  # every connection is cut while both trials train; the server is back when this returns
        assert gate.blocked() == workers  # the restart hit the held trials, mid-training
        gate.release()
        out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    assert err == "", err
    _assert_clean_end(url, target)
    _assert_intact(url, before)
    trials = _trials(url)
    assert [t.number for t in trials] == list(range(target))  # no failed, duplicated or lost trial
    assert all(trials[n].state.name == "COMPLETE" for n in held)  # the trials cut off by the restart finished


# --------------------------------------------------------------------------------------
# Full and read-only disks, damaged database files


@contextlib.contextmanager
def small_filesystem(path: Path, kib: int):
    """A real tmpfs of ``kib`` KiB at ``path`` (needs root with mount rights), or None."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield path if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(folder: Path) -> None:
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()


def _file_size_limit(limit: int):
    """For a subprocess: writes beyond ``limit`` bytes fail with EFBIG (the kernel's own limit), as on a full disk."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_a_full_disk_stops_the_run_with_one_line_and_keeps_every_finished_trial(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(tiny_digits_spec(max_epochs=3), sort_keys=False))
    with small_filesystem(tmp_path / "disk", 600) as disk:
        folder = disk or tmp_path
        url = f"sqlite:///{folder / 'autotune.db'}"
        cmd = BASE + ["run", "--study", str(tmp_path / "s.yaml"), "--storage", url, "-q"]
        first = subprocess.run(cmd + ["--trials", "3"], env=_env(), capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr
        before = _snapshot(url)
        if disk is not None:
            _fill(disk)
            limit = None
        else:
            limit = _file_size_limit((folder / "autotune.db").stat().st_size)
        full = subprocess.run(
            cmd + ["--trials", "30"], env=_env(), capture_output=True, text=True, timeout=300, preexec_fn=limit
        )
        assert full.returncode == 1
        one_error_line(
            full.stderr,
            f"storage '{url}' failed",
            "database or disk is full" if disk else "disk I/O error",
            "finished trials are stored",
        )
        _assert_intact(url, before)
        assert states(url)["RUNNING"] == 0
        if disk is not None:
            (disk / "filler").unlink()
        again = subprocess.run(cmd + ["--trials", "6"], env=_env(), capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        _assert_clean_end(url, 6)
        _assert_intact(url, before)


@pytest.mark.slow
def test_a_full_artifact_folder_keeps_the_trial_and_names_the_folder(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(tiny_digits_spec(max_epochs=2), sort_keys=False))
    url = f"sqlite:///{tmp_path / 'autotune.db'}"
    with small_filesystem(tmp_path / "art", 64) as disk:
        if disk is None:
            pytest.skip("needs a small tmpfs (root with mount rights); the database variant above covers the rest")
        art = disk / "artifacts"
        art.mkdir()
        _fill(disk)
        cmd = BASE + ["run", "--study", "s.yaml", "--storage", url, "--artifact-dir", str(art), "--trials", "3", "-q"]
        full = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert full.returncode == 1
        one_error_line(
            full.stderr,
            f"cannot write trial 0's artifacts to '{art}': No space left on device; "
            "the trial itself finished and is stored",
        )
        assert [t.state.name for t in _trials(url)] == ["COMPLETE"]
        (disk / "filler").unlink()
        done = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        _assert_clean_end(url, 3)


@pytest.mark.slow
def test_a_read_only_database_is_read_but_never_written(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(tiny_digits_spec(max_epochs=2), sort_keys=False))
    with small_filesystem(tmp_path / "ro", 1024) as disk:
        if disk is None and os.geteuid() == 0:
            pytest.skip("as root, only a read-only mount makes a file read-only, and mounting is not allowed here")
        folder = disk or tmp_path / "ro"
        url = f"sqlite:///{folder / 'autotune.db'}"
        cmd = BASE + [
            "run",
            "--study",
            str(tmp_path / "s.yaml"),
            "--storage",
            url,
            "--artifact-dir",
            str(tmp_path / "art"),
            "-q",
        ]
        assert subprocess.run(cmd + ["--trials", "2"], env=_env(), capture_output=True, timeout=300).returncode == 0
        before = file_digest(folder / "autotune.db")
        if disk is not None:
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        else:
            (folder / "autotune.db").chmod(0o444)
            folder.chmod(0o555)
        try:
            more = subprocess.run(cmd + ["--trials", "4"], env=_env(), capture_output=True, text=True, timeout=300)
            assert more.returncode == 1
            one_error_line(more.stderr, f"storage '{url}' failed", "readonly database")
            listing = subprocess.run(
                BASE + ["studies", "--storage", url], env=_env(), capture_output=True, text=True, timeout=120
            )
            assert listing.returncode == 0 and "tiny-digits" in listing.stdout, listing.stderr
            report = subprocess.run(
                BASE
                + ["report", "--study", str(tmp_path / "s.yaml"), "--storage", url, "--out", str(tmp_path / "rep")],
                env=_env(),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert report.returncode == 0, report.stderr
            assert file_digest(folder / "autotune.db") == before
        finally:
            if disk is None:
                folder.chmod(0o755)


DAMAGE = {
    "not-a-database": lambda path: path.write_bytes(os.urandom(20000)),
    "damaged-page": lambda path: _overwrite(path, 40000, b"\xde\xad" * 2000),
}


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize(
    "command",
    [
        ["run", "--trials", "3"],
        ["worker"],
        ["studies"],
        ["report"],
        ["export", "--no-retrain"],
        ["replay", "--trial", "best"],
    ],
)
def test_a_damaged_sqlite_file_is_named_and_left_as_it_was(tmp_path, write_spec, damage, command):
    path = write_spec(tiny_digits_spec(trials=2, max_epochs=2))
    assert invoke("run", "--study", path, "-q").exit_code == 0
    db = tmp_path / "autotune.db"
    assert db.stat().st_size > 45000
    DAMAGE[damage](db)
    before = file_digest(db)
    args = [command[0]] + ([] if command[0] == "studies" else ["--study", path]) + command[1:]
    result = invoke(*args)
    expected = (
        "SQLite file 'autotune.db' cannot be read as a database: file is not a database"
        if damage == "not-a-database"
        else "SQLite database 'autotune.db' is damaged ("
    )
    assert_one_error_line(result, expected)
    assert file_digest(db) == before


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
def test_a_trial_killed_before_its_first_heartbeat_is_failed_and_retried(tmp_path, storage_url):
    """The storm above found it: SIGKILL between creating a trial and its first heartbeat left a
    RUNNING trial Optuna's stale check never sees, and the study could not finish. This leaves
    that exact database state (a trial asked for, never beaten) and lets a worker finish the study."""
    from autotune.storage.recovery import fail_trials_without_heartbeat
    from autotune.storage.studies import open_storage

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(tiny_digits_spec(max_epochs=2), sort_keys=False))
    env = _env(AUTOTUNE_HEARTBEAT_INTERVAL="1", AUTOTUNE_GRACE_PERIOD="2")
    run = BASE + ["run", "--study", "s.yaml", "--storage", storage_url, "-q", "--trials"]
    assert subprocess.run(run + ["1"], env=env, cwd=tmp_path, capture_output=True, timeout=300).returncode == 0
    assert (
        subprocess.run(
            run + ["3", "--timeout", "0.001"], env=env, cwd=tmp_path, capture_output=True, timeout=300
        ).returncode
        == 0
    )  # the target is now 3; nothing more ran
    study = optuna.load_study(study_name="tiny-digits", storage=open_storage(storage_url))
    orphan = study.ask({"lr": optuna.distributions.FloatDistribution(0.001, 0.03, log=True)})
    assert fail_trials_without_heartbeat(study) == []  # young: it may be a live worker's, about to beat
    time.sleep(4.5)  # older than grace period + interval (storage opened with the defaults: use the env ones)
    worker = subprocess.run(
        BASE + ["worker", "--study", "s.yaml", "--storage", storage_url, "-q"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )  # before: waited forever
    assert worker.returncode == 0, worker.stderr
    trials = _trials(storage_url)
    assert trials[orphan.number].state.name == "FAIL"
    _assert_clean_end(storage_url, 3)
