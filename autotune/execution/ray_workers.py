"""Ray: ``autotune run --ray ADDRESS --workers K`` runs a study's workers as K tasks on a Ray cluster.

:func:`run` checks everything first (the options, that Ray is installed, the storage: not SQLite, the data, and,
through :mod:`autotune.execution.ray_cluster`, that a Ray cluster answers at the address and has a node that can
take one task), then creates the study in the shared storage (its trial target and stopping rule, which every worker
reads), starts K Ray tasks and waits for them. Each task runs the worker loop of ``autotune worker``
(:func:`autotune.execution.runner.join_study`) in its Ray worker process with C torch threads (``num_cpus=C``);
``num_gpus=G`` trains on CUDA, and a fraction lets several tasks share one GPU. So the study ends with exactly N
finished trials. A task whose process dies (killed, out of memory, its node lost) is started again by Ray
(``max_retries``); the trial it was running stops beating, and another worker fails it and re-queues its parameters
after the grace period, so the count stays exact. Each trial records its Ray node (``ray_node``) and the command
that started its task (``ray_run``): Ctrl-C cancels the tasks, waits for their running trials to be marked FAIL, and
marks FAIL itself any they left RUNNING.

``import ray`` happens inside the functions here: autotune and ``--help`` never load it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from autotune.errors import AutotuneError, Interrupted, WorkerError
from autotune.execution.ray_cluster import check_fits, check_options, import_ray, probe, resolve_address
from autotune.spec.study import StudySpec, load_spec
from autotune.storage.optuna_private import trial_id

if TYPE_CHECKING:
    from autotune.execution.progress import Progress
    from autotune.execution.run_summary import RunSummary

#: Times Ray starts a task again whose worker process died (it does not retry a task that raised).
MAX_RETRIES = 3
#: Seconds cancelled tasks get to mark their running trials FAIL after Ctrl-C; what they leave RUNNING then,
#: the command marks FAIL itself.
CANCEL_SECONDS = float(os.environ.get("AUTOTUNE_RAY_CANCEL_SECONDS", "60"))


def task_env() -> dict[str, str]:
    """What the tasks get of this process's environment: every AUTOTUNE_* variable (grace period, data and
    cache folders, ...), and progress as plain lines (Ray passes them on, each with its task's name)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("AUTOTUNE_") and k not in ("AUTOTUNE_RAY_NODE", "AUTOTUNE_RAY_RUN")
    }
    env["AUTOTUNE_PROGRESS"] = "lines"
    return env


def run(
    spec: StudySpec | str,
    *,
    workers: int,
    address: str = "auto",
    n_trials: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    cpus_per_worker: int = 1,
    gpus_per_worker: float = 0,
    pruner: str | None = None,
    stop: str | None = None,
    stop_patience: int | None = None,
    precision: str | None = None,
    step: str | None = None,
    data_dir: str | None = None,
    artifact_dir: str | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
    log: bool = False,
) -> RunSummary:
    """Run ``spec``'s study with ``workers`` Ray tasks on the cluster at ``address`` and wait until it holds
    ``n_trials`` finished trials (or the stopping rule fires); the summary, as :func:`autotune.run_study`'s.

    ``spec``: a :class:`StudySpec`, a shipped spec's name or a YAML path. Each task takes ``cpus_per_worker``
    CPUs (its torch threads) and ``gpus_per_worker`` GPUs (> 0: it trains on CUDA; 0.5: two share a GPU).
    ``log``: pass the workers' progress lines on to this process's stderr. The study is created only after
    every check passed: Ray missing, an SQLite storage, a bad option or an address where no Ray cluster
    answers raise before anything is written.
    """
    # imported here, not at the top: keeps optuna off the import of this module
    from autotune.execution.shared_study import check_shared, create_shared, finish_shared

    spec = spec if isinstance(spec, StudySpec) else load_spec(spec)
    data_dir = data_dir or os.environ.get("AUTOTUNE_DATA_DIR") or None  # as the nodes see it
    artifact_dir = artifact_dir or os.environ.get("AUTOTUNE_ARTIFACT_DIR") or None
    check_options(workers=workers, cpus_per_worker=cpus_per_worker, gpus_per_worker=gpus_per_worker)
    ray = import_ray()
    spec, url, name, target, rule = check_shared(
        spec,
        n_trials=n_trials,
        storage=storage,
        study_name=study_name,
        pruner=pruner,
        stop=stop,
        stop_patience=stop_patience,
        precision=precision,
        step=step,
        data_dir=data_dir,
        hosts="the Ray cluster's nodes",
    )
    address = resolve_address(address)
    check_fits(probe(address), address=address, cpus_per_worker=cpus_per_worker, gpus_per_worker=gpus_per_worker)
    shared = create_shared(spec, url, name, target=target, rule=rule)
    start = time.perf_counter()
    # Ray prints its own notes (a worker process died, its task is retried) on stdout: they go to stderr, and
    # stdout keeps the summary alone (--json)
    with contextlib.redirect_stdout(sys.stderr):
        _run_tasks(
            ray,
            spec,
            address=address,
            url=url,
            name=name,
            workers=workers,
            cpus_per_worker=cpus_per_worker,
            gpus_per_worker=gpus_per_worker,
            data_dir=data_dir,
            artifact_dir=artifact_dir,
            timeout=timeout,
            log=log,
        )
    return finish_shared(
        shared, seconds=time.perf_counter() - start, workers=workers, data_dir=data_dir, progress=progress
    )


def _run_tasks(
    ray: Any,
    spec: StudySpec,
    *,
    address: str,
    url: str,
    name: str,
    workers: int,
    cpus_per_worker: int,
    gpus_per_worker: float,
    data_dir: str | None,
    artifact_dir: str | None,
    timeout: float | None,
    log: bool,
) -> None:
    """Start the ``workers`` tasks and wait for them all; a WorkerError names the first that failed."""
    run_id = uuid.uuid4().hex[:12]  # each trial of these tasks records it (ray_run): Ctrl-C finds theirs by it
    ray.init(
        address=address,
        runtime_env={"env_vars": {**task_env(), "AUTOTUNE_RAY_RUN": run_id}},
        logging_level=logging.ERROR,
        log_to_driver=log,
    )
    try:
        task = ray.remote(worker_task).options(
            name="autotune-worker",
            num_cpus=cpus_per_worker,
            num_gpus=gpus_per_worker,
            max_retries=MAX_RETRIES,
            retry_exceptions=False,
        )
        refs = [
            task.remote(
                spec,
                url=url,
                name=name,
                threads=cpus_per_worker,
                device="cuda" if gpus_per_worker else "cpu",
                data_dir=data_dir,
                artifact_dir=artifact_dir,
                timeout=timeout,
                quiet=not log,
            )
            for _ in range(workers)
        ]
        try:
            failures = [_failure(ray, ref) for ref in refs]
        except KeyboardInterrupt:
            deadline = time.monotonic() + CANCEL_SECONDS
            for ref in refs:
                ray.cancel(ref)  # a KeyboardInterrupt in each task: it marks its running trial FAIL
            ray.wait(refs, num_returns=len(refs), timeout=CANCEL_SECONDS)
            # Ray's wait may return before a cancelled task has written its FAIL, and ray.shutdown kills the job's
            # worker processes: wait for what the database shows, and fail what a task left RUNNING (one that did
            # not answer the cancel, or was killed first)
            try:
                fail_left_running(url, name, run_id, deadline=deadline)
            except Exception as exc:  # noqa: BLE001 -- the interrupt goes on; the next run fails them as stale
                raise Interrupted(
                    f"interrupted: the Ray tasks of study '{name}' were cancelled, but their running "
                    f"trials could not be checked ({type(exc).__name__}: {exc}); the next run marks "
                    "them FAIL once their heartbeat is stale"
                ) from None
            raise Interrupted(
                f"interrupted: the Ray tasks of study '{name}' were cancelled and their running trials "
                "marked FAIL; run the same command again to continue"
            ) from None
    finally:
        ray.shutdown()
    failed = [(i, reason) for i, reason in enumerate(failures) if reason]
    if failed:
        i, reason = failed[0]
        if "failed to import" in reason:  # Ray's words when the task's module is missing on a node
            reason = (
                "Ray could not import autotune in its worker: install autotune (this version) in the Python "
                "that runs `ray start` on every node"
            )
        raise WorkerError(f"Ray worker {i + 1} of {workers} failed: {reason}")


def fail_left_running(url: str, name: str, run_id: str, *, deadline: float) -> list[int]:
    """Wait until no trial of the tasks tagged ``run_id`` is RUNNING, until ``deadline`` (time.monotonic());
    then mark those still RUNNING FAIL. Their numbers (empty when the tasks failed them all themselves)."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    # imported here, not at the top: keeps optuna off the import of this module
    from autotune.storage.studies import open_storage

    storage = open_storage(url)
    study_id = storage.get_study_id_from_name(name)

    def running() -> list[Any]:
        return [
            t
            for t in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
            if t.user_attrs.get("ray_run") == run_id
        ]

    left = running()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = running()
    for trial in left:
        with contextlib.suppress(UpdateFinishedTrialError):  # its task wrote FAIL in between
            storage.set_trial_state_values(trial_id(trial), state=TrialState.FAIL)
    return [t.number for t in left]


def _failure(ray: Any, ref: Any) -> str | None:
    """None when the task ended well, else why it failed: its own error line, or what Ray says (a worker process
    that died more than MAX_RETRIES times)."""
    try:
        ray.get(ref)
        return None
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None) or exc
        text = str(cause) if isinstance(cause, AutotuneError) else f"{type(cause).__name__}: {cause}"
    except ray.exceptions.RayError as exc:
        text = str(exc)
    return (text.strip().splitlines() or ["(no message)"])[0]


def worker_task(
    spec: StudySpec,
    *,
    url: str,
    name: str,
    threads: int,
    device: str,
    data_dir: str | None,
    artifact_dir: str | None,
    timeout: float | None,
    quiet: bool,
) -> int:
    """One Ray task, in its Ray worker process: the worker loop of ``autotune worker``; the study's finished
    trials when it ends."""
    import warnings

    import optuna
    import ray

    # imported here, not at the top: keeps optuna off the import of this module
    from autotune.execution.progress import make_progress
    from autotune.execution.runner import join_study

    os.environ["AUTOTUNE_RAY_NODE"] = ray.get_runtime_context().get_node_id()  # objective.placement records it
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    summary = join_study(
        spec,
        storage=url,
        study_name=name,
        threads=threads,
        data_dir=data_dir,
        device=device,
        timeout=timeout,
        artifact_dir=artifact_dir,
        progress=make_progress(quiet=quiet),
    )
    return summary.finished
