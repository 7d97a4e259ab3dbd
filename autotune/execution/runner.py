"""Running a study: create or resume it, then work until it holds exactly N finished trials.

One process or several (``--workers K`` on this machine, ``autotune worker`` from any host)
share a study through its storage. Before a worker starts a trial it *claims a slot* under a
lock (a lock file beside an SQLite database, an advisory lock on PostgreSQL), so the study
ends with exactly N finished (complete or pruned) trials, never N+K. A worker killed
mid-trial stops sending heartbeats; after the grace period another worker marks that trial
FAIL and re-queues its parameters, and the count is still exact.

That loop is :mod:`autotune.execution.worker_loop`; the study it fills is set up by
:mod:`autotune.execution.shared_study`, which also serves workers that Slurm or Ray start.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from functools import partial
from typing import Any

import optuna

from autotune.errors import OptionError, StorageError
from autotune.execution.confirming import confirm_after_search
from autotune.execution.progress import Progress, make_progress
from autotune.execution.run_summary import RunSummary, finished_and_pruned, summarize
from autotune.execution.shared_study import load_data, open_study, set_up_study, settle, with_computation
from autotune.execution.worker_loop import work_and_summarize
from autotune.execution.workers import auto_count, run_local_workers
from autotune.hardware import gpus
from autotune.hardware.devices import resolve_device, set_threads, usable_cores
from autotune.hardware.precision import check_device as check_precision
from autotune.spec.study import StopSpec, StudySpec
from autotune.storage import warm_start as warm_starts
from autotune.storage.artifacts import artifact_dir as default_artifact_dir
from autotune.storage.artifacts import check_folder
from autotune.storage.studies import check_url, resolve_storage_url


def run_study(
    spec: StudySpec,
    *,
    n_trials: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    pruner: str | None = None,
    threads: int | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    workers: int | str = 1,
    timeout: float | None = None,
    artifact_dir: str | None = None,
    stop: str | None = None,
    stop_patience: int | None = None,
    warm_start: str | None = None,
    precision: str | None = None,
    trials_per_gpu: int | None = None,
    step: str | None = None,
) -> RunSummary:
    """Run ``spec`` until its study holds ``n_trials`` finished (complete or pruned) trials.

    Creates the study if it is missing; re-running after an interruption tops it up. With
    ``workers > 1``, starts that many worker processes on this machine, each with
    ``cores // workers`` threads (``workers="auto"``: one per core on the CPU, see
    :func:`autotune.execution.workers.auto_count`; ``1``: this process alone, a study that repeats trial for trial);
    on CUDA (``device`` auto or cuda, not cuda:N) each worker gets its own GPU, round robin, or ``trials_per_gpu``
    workers per GPU (see :mod:`autotune.hardware.gpus`). ``stop="noise"`` (or the spec's ``stop:`` block) ends the
    search earlier, at the noise floor (see :mod:`autotune.analysis.stopping`); ``stop_patience`` overrides its
    patience. ``warm_start="STUDY[@STORAGE]"`` first seeds the study with that study's finished trials whose
    parameters fit this spec's space (see :mod:`autotune.storage.warm_start`). ``precision`` (``fp32``, ``bf16``,
    ``auto``) and ``step`` (``plain``, ``fused``) override the spec's; each trial records the ones it used. Raises
    :class:`~autotune.errors.Interrupted` on Ctrl-C or SIGTERM after marking the
    running trial(s) failed.
    """
    if workers != "auto" and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise OptionError(f"«workers» must be 'auto' or a whole number >= 1, got {workers!r}")
    _check_threads(threads)
    spec, target, rule, url = settle(
        spec,
        n_trials=n_trials,
        pruner=pruner,
        precision=precision,
        step=step,
        stop=stop,
        stop_patience=stop_patience,
        storage=storage,
    )
    pinned = device is not None and device.strip().lower().startswith("cuda:")
    device = resolve_device(device)
    if workers == "auto":
        workers = auto_count(device, threads=threads, target=target, pinned=pinned)
    check_precision(spec.precision, device)
    gpu_ids = _gpu_ids(device, workers, trials_per_gpu, pinned)
    name = study_name or spec.name
    progress = progress or Progress()
    # before touching the database: bad data, a broken model builder or a missing device leave no study
    splits = load_data(spec, data_dir, device)
    _check_artifacts(url, artifact_dir)
    warm = None if warm_start is None else warm_starts.plan(spec, warm_start, storage=storage, target=name)
    for line in warm_starts.plan_lines(warm) if warm is not None else []:  # decided before training: said first
        progress.note(line)
    if workers > 1:  # forked workers share `splits`; fresh worker processes load their own
        study, summary = _run_workers(
            spec,
            url=url,
            name=name,
            target=target,
            workers=workers,
            threads=threads,
            data_dir=data_dir,
            device=device,
            timeout=timeout,
            artifact_dir=artifact_dir,
            rule=rule,
            warm=warm,
            gpu_ids=gpu_ids,
            splits=splits,
            progress=progress,
        )
    else:
        set_threads(threads)
        study, seeded = set_up_study(spec, url, name, target=target, rule=rule, warm=warm)
        summary = replace(
            work_and_summarize(
                spec,
                study,
                url=url,
                target=target,
                splits=splits,
                device=device,
                progress=progress,
                timeout=timeout,
                artifact_dir=artifact_dir,
                data_dir=data_dir,
            ),
            warm_start=seeded,
        )
    # the confirmation replays on the CPU: data loaded there already are used again, not loaded a second time
    return confirm_after_search(
        spec,
        study,
        summary,
        url=url,
        threads=threads,
        data_dir=data_dir,
        progress=progress,
        splits=splits if device == "cpu" else None,
    )


def join_study(
    spec: StudySpec,
    *,
    storage: str | None = None,
    study_name: str | None = None,
    threads: int | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    timeout: float | None = None,
    artifact_dir: str | None = None,
    precision: str | None = None,
    step: str | None = None,
) -> RunSummary:
    """Join an existing study as one more worker until its trial target is met (``autotune worker``),
    or until the stopping rule its last ``run`` set fires. ``precision`` and ``step`` override the spec's."""
    _check_threads(threads)
    spec = with_computation(spec, precision, step)
    url = resolve_storage_url(storage)
    check_url(url)
    name = study_name or spec.name
    device = resolve_device(device)
    check_precision(spec.precision, device)
    splits = load_data(spec, data_dir, device)
    return join_loaded(
        spec,
        url=url,
        name=name,
        splits=splits,
        threads=threads,
        device=device,
        progress=progress or Progress(),
        timeout=timeout,
        artifact_dir=artifact_dir,
        data_dir=data_dir,
    )


def join_loaded(
    spec: StudySpec,
    *,
    url: str,
    name: str,
    splits: Any,
    threads: int | None,
    device: str,
    progress: Progress,
    timeout: float | None,
    artifact_dir: str | None,
    data_dir: str | None,
) -> RunSummary:
    """:func:`join_study` once the spec, storage and device are checked and the data loaded (a forked local
    worker starts here, with its parent's data)."""
    set_threads(threads)
    _check_artifacts(url, artifact_dir)
    study = open_study(spec, url, name, create=False, salt=os.getpid())
    target = study.user_attrs.get("target_trials")
    if not isinstance(target, int):
        raise StorageError(f"study '{name}' has no trial target; start it with `autotune run --trials N`")
    return work_and_summarize(
        spec,
        study,
        url=url,
        target=target,
        splits=splits,
        device=device,
        progress=progress,
        timeout=timeout,
        artifact_dir=artifact_dir,
        data_dir=data_dir,
    )


# --------------------------------------------------------------------------------------
# Several local workers


def _run_workers(
    spec: StudySpec,
    *,
    url: str,
    name: str,
    target: int,
    workers: int,
    threads: int | None,
    data_dir: str | None,
    device: str,
    timeout: float | None,
    artifact_dir: str | None,
    rule: StopSpec | None,
    warm: warm_starts.WarmPlan | None = None,
    gpu_ids: list[str] | None = None,
    splits: Any = None,
    progress: Progress | None = None,
) -> tuple[optuna.Study, RunSummary]:
    """Create the study, then let ``workers`` local worker processes fill it (see :mod:`autotune.execution.workers`);
    ``progress`` shows their trial lines (a live bar on a terminal). With ``splits`` (the data, loaded here) the
    workers can be forked: each then runs :func:`_forked_worker`."""

    progress = progress or Progress()
    study, seeded = set_up_study(spec, url, name, target=target, rule=rule, warm=warm)
    before, pruned_before = finished_and_pruned(study)
    start = time.perf_counter()
    progress.start(
        study_name=name,
        done=before,
        target=target,
        max_epochs=spec.max_epochs,
        metric=spec.metric,
        metrics=spec.metrics,
    )
    try:
        run_local_workers(
            spec,
            study,
            url=url,
            target=target,
            workers=workers,
            per_worker=threads or max(1, usable_cores() // workers),
            data_dir=data_dir,
            device=device,
            timeout=timeout,
            artifact_dir=artifact_dir,
            gpu_ids=gpu_ids,
            forked=None
            if splits is None
            else partial(_forked_worker, spec, name, url, splits, timeout, artifact_dir, data_dir),
            on_line=progress.worker_line,
        )
    finally:
        progress.stop()
    return study, replace(
        summarize(
            study,
            storage_url=url,
            target=target,
            finished_before=before,
            pruned_before=pruned_before,
            seconds=time.perf_counter() - start,
        ),
        workers=workers,
        warm_start=seeded,
    )


def _forked_worker(
    spec: StudySpec,
    name: str,
    url: str,
    splits: Any,
    timeout: float | None,
    artifact_dir: str | None,
    data_dir: str | None,
) -> None:
    """A forked local worker: ``autotune worker`` on the data the parent loaded."""

    join_loaded(
        spec,
        url=url,
        name=name,
        splits=splits,
        threads=1,
        device="cpu",
        progress=make_progress(quiet=False),
        timeout=timeout,
        artifact_dir=artifact_dir,
        data_dir=data_dir,
    )


# --------------------------------------------------------------------------------------
# Helpers


def _gpu_ids(device: str, workers: int, per_gpu: int | None, pinned: bool) -> list[str] | None:
    """Each local worker's CUDA_VISIBLE_DEVICES, or None (the CPU, one worker, or a GPU the user pinned)."""

    if per_gpu is not None and not device.startswith("cuda"):
        raise OptionError(f"«trials_per_gpu» {per_gpu}: the device is {device}; it needs CUDA GPUs")
    if per_gpu is not None and pinned:
        raise OptionError(
            f"«trials_per_gpu» {per_gpu} deals the workers over the GPUs; use «device» cuda (or auto), not one GPU"
        )
    if workers < 2 or pinned or not device.startswith("cuda"):
        return None
    import torch

    return gpus.assign(workers, gpus.visible(torch.cuda.device_count()), per_gpu)


def _check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise OptionError(f"«threads» must be >= 1, got {threads}")


def _check_artifacts(url: str, artifact_dir: str | None) -> None:

    check_folder(default_artifact_dir(url, artifact_dir))
