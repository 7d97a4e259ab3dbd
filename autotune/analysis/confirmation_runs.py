"""The runs of a confirmation: the seeds its trials share, drawn from a stream no search uses, and the runs the
replay store lacks trained in processes forked from this one (:func:`train_missing`), each the run one process
would train. :func:`autotune.analysis.confirmation.confirm` reads every run back through
:mod:`autotune.storage.replays`, so none is trained twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import optuna

from autotune.base.seeding import derive_seed
from autotune.hardware.devices import usable_cores
from autotune.hardware.precision import recorded
from autotune.hardware.processes import can_fork, fork_map
from autotune.hardware.steps import recorded_step
from autotune.search.configs import config_of
from autotune.spec.study import StudySpec
from autotune.storage.optuna_private import release_connections
from autotune.storage.replays import ReplayStore, batch_of, replay, run_key, seeds_for

#: Confirmation seeds come from their own stream: three parts, where a trial's seed has two
#: (:func:`autotune.base.seeding.trial_seed`) and the sampler's four, so none is a seed the search used.
_SEED_STREAM = 0xC0F


def confirm_seeds(study_seed: int, n: int) -> list[int]:
    """The ``n`` seeds every confirmed trial is trained with; those of a smaller ``n`` are a prefix, so
    confirming again with more seeds reuses every run already made."""
    return seeds_for(derive_seed(study_seed, _SEED_STREAM, 0), n)


def train_missing(
    spec: StudySpec,
    chosen: Sequence[optuna.trial.FrozenTrial],
    shared: Sequence[int],
    *,
    splits: Any,
    store: ReplayStore | None,
    workers: int,
) -> set[tuple[int, int]]:
    """Train the runs of ``chosen`` × ``shared`` that ``store`` lacks in ``workers`` processes forked from this
    one, into the store, and return their (trial, seed) pairs (with the spec's ``batch_seeds``, a process trains one
    trial's seeds at once). Only where a forked run is the run this
    process would train: one torch thread here (the trials' own count, which replays use), the store there
    to take the runs, and at least two runs to share; otherwise nothing is trained here and
    :func:`autotune.analysis.confirmation.confirm` trains the runs one after another."""
    import torch

    workers = min(workers, usable_cores())
    if workers < 2 or store is None or torch.get_num_threads() != 1 or not can_fork("cpu", 1):
        return set()
    # a job is one run, or with seed batching one trial's batch of the shared seeds (trained at once or not at all)
    batch = batch_of(spec, shared)
    jobs = []
    for trial in chosen:
        config, precision, step = config_of(spec, trial), recorded(trial.user_attrs), recorded_step(trial.user_attrs)
        missing = [
            seed
            for seed in shared
            if store.get(
                run_key(spec, config, seed=seed, epochs=spec.max_epochs, precision=precision, step=step, batch=batch)
            )
            is None
        ]
        groups = ([missing] if missing else []) if batch is not None else [[seed] for seed in missing]
        jobs += [(trial.number, config, group, precision, step) for group in groups]
    if len(jobs) < 2:
        return set()
    release_connections(store.study)  # each process opens its own
    fork_map(partial(_train_one, spec, splits, store, shared), jobs, workers)
    store.refresh()
    return {(number, seed) for number, _, group, _, _ in jobs for seed in group}


def _train_one(
    spec: StudySpec,
    splits: Any,
    store: ReplayStore,
    shared: Sequence[int],
    job: tuple[int, dict[str, Any], list[int], str, str],
) -> None:
    number, config, group, precision, step = job
    replay(
        spec,
        config,
        seeds=group if batch_of(spec, shared) is None else shared,  # a batch is all the shared seeds, as confirm asks
        splits=splits,
        label=f"trial {number}",
        store=store,
        precision=precision,
        step=step,
        extra={"source_trial": number, "purpose": "confirmation"},
    )
