"""Running a study: create or resume it, then work until it holds exactly N finished trials.

One process or several (``--workers K`` on this machine, ``autotune worker`` from any host)
share a study through its storage. Before a worker starts a trial it *claims a slot* under a
lock (a lock file beside an SQLite database, an advisory lock on PostgreSQL), so the study
ends with exactly N finished (complete or pruned) trials, never N+K. A worker killed
mid-trial stops sending heartbeats; after the grace period another worker marks that trial
FAIL and re-queues its parameters, and the count is still exact.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import optuna
from optuna.trial import TrialState

from autotune import goals, interrupts
from autotune.devices import resolve_device
from autotune.errors import (PERMANENT_STORAGE_FAILURES, AutotuneError, Interrupted, StorageError, StudyNotFoundError,
                             storage_failure)
from autotune.progress import Progress
from autotune.seeding import derive_seed
from autotune.spec import PRUNERS, PrunerSpec, StudySpec
from autotune.storage import (check_url, count_finished, create_or_load_study, open_storage, redact,
                              resolve_storage_url, sqlite_path)

T = TypeVar("T")
#: How long a worker keeps retrying a lost database connection before giving up.
RETRY_SECONDS = float(os.environ.get("AUTOTUNE_DB_RETRY_SECONDS", "60"))
#: How often an idle worker checks whether the last running trials finished (or died).
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class RunSummary:
    study_name: str
    storage: str  # redacted
    target: int
    finished_before: int
    finished: int
    states: dict[str, int]
    best_value: float | None
    best_trial: int | None
    best_params: dict[str, Any]
    pruned_this_run: int
    seconds: float
    workers: int = 1
    metrics: tuple[str, ...] = ()  # the objectives; several: best_* are None and pareto lists the front
    pareto: tuple[dict[str, Any], ...] = ()
    infeasible: int = 0  # complete trials that break a constraint


def make_sampler(spec: StudySpec, *, n_existing: int, salt: int = 0) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded from the study seed *and* the trials already there.

    Seeding with the existing count keeps a resumed run from replaying the first run's
    random start-up configurations; ``salt`` (a worker's pid) keeps workers that start
    together from proposing the same ones.
    """
    seed = derive_seed(spec.seed, n_existing, 1, salt)  # 4 parts: never equal to a trial's seed
    if spec.sampler.name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.sampler.name == "nsga2":  # constraints come from trial.set_constraint (Optuna 5)
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=spec.sampler.population_size)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=spec.sampler.n_startup_trials,
                                      multivariate=spec.sampler.multivariate, group=spec.sampler.multivariate)


def make_pruner(pruner: PrunerSpec, *, max_epochs: int) -> optuna.pruners.BasePruner:
    if pruner.name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=pruner.n_startup_trials,
                                           n_warmup_steps=pruner.n_warmup_steps)
    if pruner.name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=pruner.min_resource,
                                                      reduction_factor=pruner.reduction_factor)
    if pruner.name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=pruner.min_resource, max_resource=max_epochs,
                                              reduction_factor=pruner.reduction_factor)
    return optuna.pruners.NopPruner()


def run_study(spec: StudySpec, *, n_trials: int | None = None, storage: str | None = None,
              study_name: str | None = None, pruner: str | None = None, threads: int | None = None,
              data_dir: str | None = None, device: str = "auto", progress: Progress | None = None,
              workers: int = 1, timeout: float | None = None, artifact_dir: str | None = None) -> RunSummary:
    """Run ``spec`` until its study holds ``n_trials`` finished (complete or pruned) trials.

    Creates the study if it is missing; re-running after an interruption tops it up. With
    ``workers > 1``, starts that many worker processes on this machine, each with
    ``cores // workers`` threads. Raises :class:`~autotune.errors.Interrupted` on Ctrl-C or
    SIGTERM after marking the running trial(s) failed.
    """
    target = spec.trials if n_trials is None else n_trials
    if target < 1:
        raise AutotuneError(f"--trials must be >= 1, got {target}")
    if workers < 1:
        raise AutotuneError(f"--workers must be >= 1, got {workers}")
    _check_threads(threads)
    spec = _with_pruner(spec, pruner)
    url = resolve_storage_url(storage)
    check_url(url)
    device = resolve_device(device)
    name = study_name or spec.name
    progress = progress or Progress()
    # before touching the database: bad data, a broken model builder or a missing device leave no study
    splits = _load_data(spec, data_dir, device)
    _check_artifacts(url, artifact_dir)
    if workers > 1:
        del splits  # each worker loads its own copy
        return _run_workers(spec, url=url, name=name, target=target, workers=workers, threads=threads,
                            data_dir=data_dir, device=device, timeout=timeout, artifact_dir=artifact_dir)

    _set_threads(threads)
    study = _open_study(spec, url, name, create=True)
    _retry(lambda: study.set_user_attr("target_trials", target), url)
    return _work_and_summarize(spec, study, url=url, target=target, splits=splits, device=device,
                               progress=progress, timeout=timeout, artifact_dir=artifact_dir)


def join_study(spec: StudySpec, *, storage: str | None = None, study_name: str | None = None,
               threads: int | None = None, data_dir: str | None = None, device: str = "auto",
               progress: Progress | None = None, timeout: float | None = None,
               artifact_dir: str | None = None) -> RunSummary:
    """Join an existing study as one more worker until its trial target is met (``autotune worker``)."""
    _check_threads(threads)
    url = resolve_storage_url(storage)
    check_url(url)
    name = study_name or spec.name
    device = resolve_device(device)
    progress = progress or Progress()
    splits = _load_data(spec, data_dir, device)
    _set_threads(threads)
    _check_artifacts(url, artifact_dir)
    study = _open_study(spec, url, name, create=False, salt=os.getpid())
    target = study.user_attrs.get("target_trials")
    if not isinstance(target, int):
        raise StorageError(f"study '{name}' has no trial target; start it with `autotune run --trials N`")
    return _work_and_summarize(spec, study, url=url, target=target, splits=splits, device=device,
                               progress=progress, timeout=timeout, artifact_dir=artifact_dir)


# --------------------------------------------------------------------------------------
# One worker


def _work_and_summarize(spec: StudySpec, study: optuna.Study, *, url: str, target: int, splits: Any, device: str,
                        progress: Progress, timeout: float | None, artifact_dir: str | None) -> RunSummary:
    from sqlalchemy.exc import DBAPIError

    from autotune.artifacts import artifact_dir as default_artifact_dir, open_store
    from autotune.objective import Objective

    before, pruned_before = _retry(lambda: _finished_and_pruned(study), url)
    start = time.perf_counter()
    if before < target:
        store = open_store(default_artifact_dir(url, artifact_dir))

        def on_epoch(number: int, stats: Any, value: float) -> None:
            interrupts.check()  # a stop whose first KeyboardInterrupt was swallowed (see interrupts)
            progress.epoch(number, stats, value)

        objective = Objective(spec, splits, device=device, on_epoch=on_epoch, artifacts=store,
                              retry=lambda fn: _retry(fn, url))
        progress.note(splits.describe())
        progress.start(study_name=study.study_name, done=before, target=target, max_epochs=spec.max_epochs,
                       metric=spec.metric, metrics=spec.metrics)
        try:
            work(study, objective, target=target, url=url, on_trial=progress.trial_finished,
                 deadline=None if timeout is None else time.monotonic() + timeout)
        except (optuna.exceptions.StorageInternalError, DBAPIError) as exc:  # e.g. a full disk, mid-trial
            progress.stop()
            raise _storage_failed(url, exc) from None
        except KeyboardInterrupt:
            progress.stop()
            done = count_finished(study)
            raise Interrupted(f"interrupted: {done} of {target} trials finished in study '{study.study_name}'; "
                              f"the running trial was marked FAIL; run the same command again to continue") from None
        progress.stop()
    return summarize(study, storage_url=url, target=target, finished_before=before, pruned_before=pruned_before,
                     seconds=time.perf_counter() - start)


def work(study: optuna.Study, objective: Callable[[optuna.Trial], float], *, target: int, url: str | None,
         on_trial: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
         deadline: float | None = None) -> None:
    """Claim and run trials until the study holds ``target`` finished trials (or ``deadline`` passes)."""
    lock = slot_lock(url, study.study_name)
    while deadline is None or time.monotonic() < deadline:
        interrupts.check()
        trial = None
        try:
            # Ctrl-C/SIGTERM wait until the claimed trial is known, so it can never be left RUNNING.
            with interrupts.deferred(), lock:
                # Dead workers' trials are failed and re-queued under the slot lock too: Optuna commits
                # the FAIL and the WAITING copy one after the other, and a claim in between saw a free
                # slot and started one trial too many (N+1 finished; found by the SIGKILL storm test).
                with warnings.catch_warnings():  # "experimental" in Optuna, and what crash recovery rests on
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    _retry(lambda: optuna.storages.fail_stale_trials(study), url)
                    _retry(lambda: fail_trials_without_heartbeat(study), url)
                trial, done = _retry(lambda: _claim(study, target), url)
            if done:
                return
            if trial is None:  # every slot is taken by a running trial; wait in case one of them dies
                time.sleep(POLL_SECONDS)
                continue
            frozen = _run_trial(study, trial, objective, url)
        except BaseException:  # KeyboardInterrupt (Ctrl-C/SIGTERM) or a bug: mark the trial FAIL first
            if trial is not None:
                with interrupts.deferred():  # a second Ctrl-C must not cut the FAIL write in two
                    _fail_quietly(study, trial, url)
            raise
        if on_trial is not None:
            on_trial(study, frozen)
        failure = getattr(objective, "artifact_failure", None)
        if failure:
            raise StorageError(f"{failure}; the trial itself finished and is stored; free space (or fix the "
                               "folder) and run the same command again")


def fail_trials_without_heartbeat(study: optuna.Study) -> list[int]:
    """Fail (and re-queue) RUNNING trials that never beat and are older than the grace period.

    A worker killed between creating a trial and recording its first heartbeat leaves a RUNNING
    trial that Optuna's stale check never sees (it only looks at trials with a heartbeat), so the
    study could never reach its target. Returns the numbers of the trials failed here.
    """
    import copy
    import datetime

    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    storage = study._storage
    rdb = getattr(storage, "_backend", storage)
    interval = getattr(rdb, "heartbeat_interval", None)
    if not interval or not hasattr(rdb, "scoped_session"):
        return []
    grace = datetime.timedelta(seconds=(getattr(rdb, "grace_period", None) or 2 * interval) + interval)
    now = datetime.datetime.now()  # Optuna stamps datetime_start with the client's local time
    with _create_scoped_session(rdb.scoped_session) as session:
        running = (session.query(models.TrialModel)
                   .filter(models.TrialModel.study_id == study._study_id,
                           models.TrialModel.state == TrialState.RUNNING).all())
        orphans = [t.trial_id for t in running if not t.heartbeats and t.datetime_start is not None
                   and now - t.datetime_start > grace]
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


def _fail_quietly(study: optuna.Study, trial: optuna.Trial, url: str | None) -> None:
    """Mark a trial FAIL unless it already finished.

    An interrupt can leave the study's database session broken, so this resets the session
    between tries and finally writes through a fresh connection; if even that fails, it says so
    (the trial's heartbeat then lets the next run fail it as stale).
    """
    storage = study._storage
    error: Exception | None = None
    for attempt in range(3):
        try:
            if attempt == 2 and url is not None:  # last try: a storage of our own, no shared session
                storage = open_storage(url)
            if storage.get_trial(trial._trial_id).state.is_finished():
                return
            storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
            return
        except Exception as exc:  # noqa: BLE001 -- reported below; the interrupt itself must go on
            error = exc
            remove_session = getattr(storage, "remove_session", None)
            if remove_session is not None:
                with contextlib.suppress(Exception):
                    remove_session()
    print(f"Warning: could not mark trial {trial.number} FAIL ({type(error).__name__}: {error}); "
          "it stays RUNNING until its heartbeat expires", file=sys.stderr)


def _claim(study: optuna.Study, target: int) -> tuple[optuna.Trial | None, bool]:
    """Start a trial if a slot is free: (trial, False); (None, False) to wait; (None, True) when done."""
    states = Counter(t.state for t in study.get_trials(deepcopy=False))
    finished = states[TrialState.COMPLETE] + states[TrialState.PRUNED]
    if finished >= target and not states[TrialState.WAITING]:
        return None, True
    if states[TrialState.WAITING] or finished + states[TrialState.RUNNING] < target:
        with warnings.catch_warnings():  # we run the heartbeat ourselves (see _heartbeat)
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
            trial = study.ask()  # takes a re-queued (WAITING) trial first
        if _heartbeat_interval(study):  # beat at once: a trial with no beat yet could never go stale
            study._storage.record_heartbeat(trial._trial_id)
        return trial, False
    return None, False


def _run_trial(study: optuna.Study, trial: optuna.Trial, objective: Callable[[optuna.Trial], float],
               url: str | None) -> optuna.trial.FrozenTrial:
    with _heartbeat(study, trial):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            return _retry(lambda: study.tell(trial, state=TrialState.PRUNED), url)
    return _retry(lambda: study.tell(trial, value), url)


@contextlib.contextmanager
def _heartbeat(study: optuna.Study, trial: optuna.Trial) -> Iterator[None]:
    storage = study._storage
    interval = _heartbeat_interval(study)
    if not interval:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            with contextlib.suppress(Exception):  # a missed beat is retried at the next interval
                storage.record_heartbeat(trial._trial_id)

    thread = threading.Thread(target=beat, name=f"heartbeat-{trial.number}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _heartbeat_interval(study: optuna.Study) -> int | None:
    getter = getattr(study._storage, "get_heartbeat_interval", None)  # RDB storage only
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


def _storage_failed(url: str, exc: BaseException) -> StorageError:
    """A storage that failed for good (a full or read-only disk, a damaged file), wherever it surfaced."""
    return StorageError(f"storage '{redact(url)}' failed: {storage_failure(exc) or exc}; finished trials are stored "
                        "(a running one is marked FAIL where the storage allows it); fix the cause and run the same "
                        "command again")


def _retry(fn: Callable[[], T], url: str | None) -> T:
    """Call ``fn``, retrying with back-off while the database is unreachable, for RETRY_SECONDS at most."""
    from sqlalchemy.exc import DBAPIError

    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.5
    while True:
        try:
            return fn()
        except (optuna.exceptions.StorageInternalError, DBAPIError) as exc:
            reason = storage_failure(exc) or str(exc)
            if any(p in reason for p in PERMANENT_STORAGE_FAILURES):
                raise _storage_failed(url or "", exc) from None
            if time.monotonic() + delay > deadline:
                raise StorageError(f"lost the connection to storage '{redact(url or '')}' for {RETRY_SECONDS:g} s "
                                   f"({reason}); finished trials are stored; run again to continue") from None
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


# --------------------------------------------------------------------------------------
# Several local workers


def _run_workers(spec: StudySpec, *, url: str, name: str, target: int, workers: int, threads: int | None,
                 data_dir: str | None, device: str, timeout: float | None, artifact_dir: str | None) -> RunSummary:
    """Create the study, then start ``workers`` ``autotune worker`` processes and wait for them."""
    study = _open_study(spec, url, name, create=True)
    study.set_user_attr("target_trials", target)
    before, pruned_before = _finished_and_pruned(study)
    per_worker = threads or max(1, (os.cpu_count() or 1) // workers)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autotune-") as tmp:
        import yaml

        spec_file = Path(tmp) / f"{spec.name}.yaml"
        spec_file.write_text(yaml.safe_dump(spec.to_dict(), sort_keys=False))
        cmd = [sys.executable, "-m", "autotune.cli", "worker", "--study", str(spec_file), "--storage", url,
               "--study-name", name, "--threads", str(per_worker)]
        if data_dir:
            cmd += ["--data-dir", str(data_dir)]
        if timeout is not None:
            cmd += ["--timeout", str(timeout)]
        if artifact_dir:
            cmd += ["--artifact-dir", str(artifact_dir)]
        cmd += ["--device", device]
        env = dict(os.environ, AUTOTUNE_PROGRESS="lines", OMP_NUM_THREADS=str(per_worker))
        procs = [subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
                 for _ in range(workers)]
        errors: list[list[str]] = [[] for _ in procs]
        pumps = [threading.Thread(target=_pump, args=(p, i, errors[i]), daemon=True) for i, p in enumerate(procs)]
        for t in pumps:
            t.start()
        try:
            for p in procs:
                p.wait()
        except KeyboardInterrupt:
            for p in procs:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGINT)
            for p in procs:
                p.wait()
            done = count_finished(study)
            raise Interrupted(f"interrupted: {done} of {target} trials finished in study '{name}'; "
                              f"the running trials were marked FAIL; run the same command again to continue") from None
        finally:
            for t in pumps:
                t.join(timeout=5)
    failed = [(i, p.returncode) for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        i, code = failed[0]
        last = next((line for line in reversed(errors[i]) if line.startswith("Error: ")), f"exit code {code}")
        raise AutotuneError(f"worker {i + 1} of {workers} failed: {last.removeprefix('Error: ')}")
    return replace(summarize(study, storage_url=url, target=target, finished_before=before,
                             pruned_before=pruned_before, seconds=time.perf_counter() - start), workers=workers)


def _pump(proc: subprocess.Popen, index: int, keep: list[str]) -> None:
    """Forward a worker's progress lines, prefixed with its number; keep its error lines."""
    assert proc.stderr is not None
    for line in proc.stderr:
        line = line.rstrip("\n")
        keep.append(line)
        print(f"w{index + 1} {line}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Helpers


def _with_pruner(spec: StudySpec, pruner: str | None) -> StudySpec:
    if pruner is None:
        return spec
    if pruner not in PRUNERS:
        raise AutotuneError(f"unknown pruner '{pruner}'; allowed: {', '.join(PRUNERS)}")
    if spec.multi_objective and pruner != "none":
        raise AutotuneError(f"--pruner {pruner}: Optuna's pruners work on one objective only, and study "
                            f"'{spec.name}' has {len(spec.objectives)} ({', '.join(spec.metrics)}); use --pruner none")
    return spec if pruner == spec.pruner.name else replace(spec, pruner=PrunerSpec(name=pruner))


def _check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise AutotuneError(f"--threads must be >= 1, got {threads}")


def _set_threads(threads: int | None) -> None:
    import torch

    if threads is not None:  # default: torch's own choice (all physical cores, or $OMP_NUM_THREADS)
        torch.set_num_threads(threads)


def _check_artifacts(url: str, artifact_dir: str | None) -> None:
    from autotune.artifacts import artifact_dir as default_artifact_dir, check_folder

    check_folder(default_artifact_dir(url, artifact_dir))


def _load_data(spec: StudySpec, data_dir: str | None, device: str) -> Any:
    from autotune.prepare import prepare

    return prepare(spec, data_dir=data_dir, device=device)


def _open_study(spec: StudySpec, url: str, name: str, *, create: bool, salt: int = 0) -> optuna.Study:
    rdb = open_storage(url, must_exist=not create)
    try:
        study_id = rdb.get_study_id_from_name(name)
        existing = len(rdb.get_all_trials(study_id, deepcopy=False))
    except KeyError:
        if not create:
            raise StudyNotFoundError(f"no study '{name}' in storage '{redact(url)}'; create it with `autotune run`")
        existing = 0
    return create_or_load_study(rdb, spec, study_name=name, sampler=make_sampler(spec, n_existing=existing, salt=salt),
                                pruner=make_pruner(spec.pruner, max_epochs=spec.max_epochs))


def _finished_and_pruned(study: optuna.Study) -> tuple[int, int]:
    """(finished, pruned) trial counts: where a run starts, for its summary."""
    return count_finished(study), len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))


def summarize(study: optuna.Study, *, storage_url: str, target: int, finished_before: int, pruned_before: int,
              seconds: float) -> RunSummary:
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state.name for t in trials)
    multi = goals.is_multi(study)
    best = None
    if not multi:
        with contextlib.suppress(ValueError):
            best = study.best_trial
    names = tuple(study.metric_names or [f"objective {i}" for i in range(len(study.directions))])
    front = goals.pareto_front(study) if multi else []
    return RunSummary(
        study_name=study.study_name,
        storage=redact(storage_url),
        target=target,
        finished_before=finished_before,
        finished=states["COMPLETE"] + states["PRUNED"],
        states=dict(sorted(states.items())),
        best_value=best.value if best else None,
        best_trial=best.number if best else None,
        best_params=dict(best.params) if best else {},
        pruned_this_run=states["PRUNED"] - pruned_before,
        seconds=seconds,
        metrics=names,
        pareto=tuple({"trial": t.number, "values": dict(zip(names, t.values)), "params": dict(t.params)}
                     for t in front),
        infeasible=sum(1 for t in trials if t.state == TrialState.COMPLETE and not goals.feasible(t)),
    )
