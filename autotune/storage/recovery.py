"""Crash recovery and slot claims: the one module that reaches into Optuna's storage layer.

A worker beats a heartbeat while its trial runs; a worker killed mid-trial stops beating, and
after the grace period another worker fails that trial and re-queues its parameters (Optuna's
own stale check, plus :func:`fail_trials_without_heartbeat` for a trial killed before its first
beat). Before a worker starts a trial it claims a slot under :func:`slot_lock` (a lock file
beside an SQLite database, an advisory lock on PostgreSQL), so the study ends with exactly N
finished trials; dead workers' trials are failed and re-queued under the same lock, so a
re-queued trial always fills the slot its failed trial freed. What Optuna does not publish (a study's storage, trial
ids, its RDB models) comes from :mod:`autotune.storage.optuna_private`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from autotune.storage import optuna_private as private
from autotune.storage.studies import open_storage, sqlite_path


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail (and re-queue) the trials of workers that stopped beating: Optuna's check, then ours."""
    with warnings.catch_warnings():  # "experimental" in Optuna, and what crash recovery rests on
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
        fail_trials_without_heartbeat(study)


def fail_trials_without_heartbeat(study: optuna.Study) -> list[int]:
    """Fail (and re-queue) RUNNING trials that never beat and are older than the grace period.

    A worker killed between creating a trial and recording its first heartbeat leaves a RUNNING
    trial that Optuna's stale check never sees (it only looks at trials with a heartbeat), so the
    study could never reach its target. Returns the numbers of the trials failed here.
    """
    import copy
    import datetime

    storage = private.storage_of(study)
    rdb = private.rdb_of(storage)
    interval = getattr(rdb, "heartbeat_interval", None)
    if not interval or not hasattr(rdb, "scoped_session"):
        return []
    grace = datetime.timedelta(seconds=(getattr(rdb, "grace_period", None) or 2 * interval) + interval)
    now = datetime.datetime.now()  # Optuna stamps datetime_start with the client's local time
    model = private.trial_model()
    with private.session(rdb) as session:
        running = (
            session.query(model)
            .filter(model.study_id == private.study_id(study), model.state == TrialState.RUNNING)
            .all()
        )
        orphans = [
            t.trial_id
            for t in running
            if not t.heartbeats and t.datetime_start is not None and now - t.datetime_start > grace
        ]
    failed = []
    callback = rdb.get_heartbeat_stale_trial_callback()
    for trial_id in orphans:
        try:
            if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker got there first
        frozen = copy.deepcopy(storage.get_trial(trial_id))
        failed.append(frozen.number)
        if callback is not None:
            callback(study, frozen)
    return failed


def fail_quietly(study: optuna.Study, trial: optuna.Trial, url: str | None) -> None:
    """Mark a trial FAIL unless it already finished.

    An interrupt can leave the study's database session broken, so this resets the session
    between tries and finally writes through a fresh connection; if even that fails, it says so
    (the trial's heartbeat then lets the next run fail it as stale).
    """
    storage = private.storage_of(study)
    error: Exception | None = None
    for attempt in range(3):
        try:
            if attempt == 2 and url is not None:  # last try: a storage of our own, no shared session
                storage = open_storage(url)
            if storage.get_trial(private.trial_id(trial)).state.is_finished():
                return
            storage.set_trial_state_values(private.trial_id(trial), state=TrialState.FAIL)
            return
        except Exception as exc:  # noqa: BLE001 -- reported below; the interrupt itself must go on
            error = exc
            remove_session = getattr(storage, "remove_session", None)
            if remove_session is not None:
                with contextlib.suppress(Exception):
                    remove_session()
    print(
        f"Warning: could not mark trial {trial.number} FAIL ({type(error).__name__}: {error}); "
        "it stays RUNNING until its heartbeat expires",
        file=sys.stderr,
    )


def claim(study: optuna.Study, target: int) -> tuple[optuna.Trial | None, bool]:
    """Start a trial if a slot is free: (trial, False); (None, False) to wait; (None, True) when done."""
    states = Counter(t.state for t in study.get_trials(deepcopy=False))
    finished = states[TrialState.COMPLETE] + states[TrialState.PRUNED]
    if finished >= target and not states[TrialState.WAITING]:
        return None, True
    if states[TrialState.WAITING] or finished + states[TrialState.RUNNING] < target:
        with warnings.catch_warnings():  # we run the heartbeat ourselves (see _heartbeat)
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
            trial = study.ask()  # takes a re-queued (WAITING) trial first
        if heartbeat_interval(study):  # beat at once: a trial with no beat yet could never go stale
            private.storage_of(study).record_heartbeat(private.trial_id(trial))
        return trial, False
    return None, False


@contextlib.contextmanager
def heartbeat(study: optuna.Study, trial: optuna.Trial) -> Iterator[None]:
    storage = private.storage_of(study)
    interval = heartbeat_interval(study)
    if not interval:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            with contextlib.suppress(Exception):  # a missed beat is retried at the next interval
                storage.record_heartbeat(private.trial_id(trial))

    thread = threading.Thread(target=beat, name=f"heartbeat-{trial.number}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def heartbeat_interval(study: optuna.Study) -> int | None:
    getter = getattr(private.storage_of(study), "get_heartbeat_interval", None)  # RDB storage only
    return getter() if getter is not None else None


def slot_lock(url: str | None, study_name: str) -> contextlib.AbstractContextManager:
    """A lock shared by every worker of one study: a lock file for SQLite, an advisory lock for PostgreSQL.

    In-memory storage (``url`` None) has a single worker and needs none.
    """
    if url is None:
        return contextlib.nullcontext()
    path = sqlite_path(url)
    if path is not None:
        return _FileLock(path.with_name(path.name + ".lock"))
    if url.startswith("postgresql"):
        return _PostgresLock(url, study_name)
    return contextlib.nullcontext()


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        import fcntl

        self._fh = open(self.path, "a")
        fcntl.flock(self._fh, fcntl.LOCK_EX)

    def __exit__(self, *exc: Any) -> None:
        import fcntl

        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()


class _PostgresLock:
    def __init__(self, url: str, study_name: str) -> None:
        import zlib

        self.url = url
        self.key = zlib.crc32(f"autotune:{study_name}".encode())
        self._engine = None

    def __enter__(self) -> None:
        import sqlalchemy

        if self._engine is None:
            self._engine = sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool)
        self._conn = self._engine.connect()
        self._conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": self.key})

    def __exit__(self, *exc: Any) -> None:
        import sqlalchemy

        with contextlib.suppress(Exception):
            self._conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._conn.close()
