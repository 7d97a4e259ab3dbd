"""A study that workers share: the options every way of running one settles first, its data loaded before any database
is touched, and the study opened or created with the trial target and stopping rule its workers read from it. Also
the three steps of a run whose workers start elsewhere (Slurm's job array, Ray's tasks): :func:`check_shared`,
:func:`create_shared` and, once they are done, :func:`finish_shared`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import optuna

from autotune.analysis import stopping
from autotune.errors import OptionError, StudyNotFoundError
from autotune.execution.confirming import confirm_after_search
from autotune.execution.progress import Progress
from autotune.execution.retries import retry
from autotune.execution.run_summary import RunSummary, finished_and_pruned, summarize
from autotune.hardware.precision import check_name
from autotune.hardware.steps import check_step
from autotune.search.prepare import prepare
from autotune.search.samplers import make_pruner, make_sampler
from autotune.spec.study import PRUNERS, PrunerSpec, StopSpec, StudySpec
from autotune.storage import recovery
from autotune.storage import warm_start as warm_starts
from autotune.storage.studies import check_url, create_or_load_study, open_storage, redact, resolve_storage_url


def settle(
    spec: StudySpec,
    *,
    n_trials: int | None,
    pruner: str | None,
    precision: str | None,
    stop: str | None,
    stop_patience: int | None,
    storage: str | None,
    step: str | None = None,
) -> tuple[StudySpec, int, StopSpec | None, str]:
    """What every way of running a study settles first: the spec with --pruner, --precision and --step in place, the
    trial target (checked), the stopping rule and the storage URL (checked). Touches no database."""
    target = spec.trials if n_trials is None else n_trials
    if target < 1:
        raise OptionError(f"«n_trials» must be >= 1, got {target}")
    spec = with_computation(_with_pruner(spec, pruner), precision, step)
    rule = stopping.resolve(spec, stop, stop_patience)
    url = resolve_storage_url(storage)
    check_url(url)
    return spec, target, rule, url


def _with_pruner(spec: StudySpec, pruner: str | None) -> StudySpec:
    if pruner is None:
        return spec
    if pruner not in PRUNERS:
        raise OptionError(f"unknown pruner '{pruner}'; allowed: {', '.join(PRUNERS)}")
    if spec.multi_objective and pruner != "none":
        raise OptionError(
            f"--pruner {pruner}: Optuna's pruners work on one objective only, and study "
            f"'{spec.name}' has {len(spec.objectives)} ({', '.join(spec.metrics)}); use --pruner none"
        )
    return spec if pruner == spec.pruner.name else replace(spec, pruner=PrunerSpec(name=pruner))


def with_computation(spec: StudySpec, precision: str | None, step: str | None = None) -> StudySpec:
    """The spec with ``--precision`` and ``--step`` in place of its own, where given (workers started by ``run``
    read them from the spec)."""
    if precision is not None:
        spec = replace(spec, precision=check_name(precision))
    if step is not None:
        spec = replace(spec, step=check_step(step))
    return spec


def load_data(spec: StudySpec, data_dir: str | None, device: str) -> Any:
    """The data ``spec`` trains on, checked against its model and placed on ``device``: loaded before any database
    is touched, so bad data, a broken model builder or a missing device leave no study behind."""
    return prepare(spec, data_dir=data_dir, device=device)


def open_study(spec: StudySpec, url: str, name: str, *, create: bool, salt: int = 0) -> optuna.Study:
    """Study ``name`` at ``url`` with the spec's pruner and a sampler seeded for the trials already there (``salt``:
    a worker's pid); with ``create``, made where it is missing, else a StudyNotFoundError."""
    rdb = open_storage(url, must_exist=not create)
    try:
        study_id = rdb.get_study_id_from_name(name)
        existing = len(rdb.get_all_trials(study_id, deepcopy=False))
    except KeyError:
        if not create:
            raise StudyNotFoundError(
                f"no study '{name}' in storage '{redact(url)}'; create it with `autotune run`"
            ) from None
        existing = 0
    return create_or_load_study(
        rdb,
        spec,
        study_name=name,
        sampler=make_sampler(spec, n_existing=existing, salt=salt),
        pruner=make_pruner(spec.pruner, max_epochs=spec.max_epochs),
    )


def set_up_study(
    spec: StudySpec, url: str, name: str, *, target: int, rule: StopSpec | None, warm: warm_starts.WarmPlan | None
) -> tuple[optuna.Study, dict[str, Any] | None]:
    """Create (or reopen) a study for workers to fill: they read its trial target and stopping rule from it."""
    study = open_study(spec, url, name, create=True)
    seeded = _seed(study, warm, url)
    retry(lambda: study.set_user_attr("target_trials", target), url)
    retry(lambda: stopping.set_rule(study, rule), url)
    return study, seeded


def _seed(study: optuna.Study, warm: warm_starts.WarmPlan | None, url: str) -> dict[str, Any] | None:
    """Copy the warm start's trials in under the slot lock (a worker already searching counts them there)."""
    if warm is None:
        return None
    with recovery.slot_lock(url, study.study_name):
        return retry(lambda: warm_starts.seed(study, warm), url)


@dataclass(frozen=True)
class SharedStudy:
    """A study checked and ready for workers started elsewhere (a scheduler's job, a Ray cluster)."""

    spec: StudySpec
    url: str
    name: str
    target: int
    finished: int  # finished trials it holds already
    pruned: int = 0  # pruned ones among them (for the run summary)


def check_shared(
    spec: StudySpec,
    *,
    n_trials: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    pruner: str | None = None,
    stop: str | None = None,
    stop_patience: int | None = None,
    precision: str | None = None,
    step: str | None = None,
    data_dir: str | None = None,
    hosts: str = "other hosts",
) -> tuple[StudySpec, str, str, int, StopSpec | None]:
    """Everything :func:`create_shared` checks, touching no database: the options, the storage URL (not
    SQLite: workers on ``hosts`` cannot share a local file) and the data. Returns (spec, url, name, target,
    rule)."""
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
    if url.startswith("sqlite"):
        raise OptionError(
            f"«storage» {redact(url)}: workers on {hosts} cannot share a local SQLite file; give a "
            "PostgreSQL (or MySQL) URL that every worker can reach, e.g. "
            "postgresql+psycopg://USER@HOST:5432/DB"
        )
    load_data(spec, data_dir, "cpu")  # a missing or damaged dataset is found here, not in every worker
    return spec, url, study_name or spec.name, target, rule


def create_shared(spec: StudySpec, url: str, name: str, *, target: int, rule: StopSpec | None) -> SharedStudy:
    """Create (or top up) the study that workers elsewhere will fill, after :func:`check_shared`."""
    study, _ = set_up_study(spec, url, name, target=target, rule=rule, warm=None)
    return SharedStudy(spec, url, name, target, *finished_and_pruned(study))


def finish_shared(
    shared: SharedStudy,
    *,
    seconds: float,
    workers: int,
    threads: int | None = None,
    data_dir: str | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """The run summary of a study that workers elsewhere filled while this process waited ``seconds`` (a Ray
    run), then the spec's ``confirm:`` block, here, as ``run`` does it (see :func:`confirm_after_search`)."""
    study = open_study(shared.spec, shared.url, shared.name, create=False)
    summary = replace(
        summarize(
            study,
            storage_url=shared.url,
            target=shared.target,
            finished_before=shared.finished,
            pruned_before=shared.pruned,
            seconds=seconds,
        ),
        workers=workers,
    )
    return confirm_after_search(
        shared.spec, study, summary, url=shared.url, threads=threads, data_dir=data_dir, progress=progress or Progress()
    )
