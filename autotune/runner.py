"""Running a study: open storage, create or resume the study, top it up to N finished trials."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import optuna
from optuna.trial import TrialState

from autotune.errors import AutotuneError, Interrupted
from autotune.progress import Progress
from autotune.seeding import derive_seed
from autotune.spec import PRUNERS, PrunerSpec, StudySpec
from autotune.storage import (FINISHED_STATES, check_url, count_finished, create_or_load_study, open_storage, redact,
                              resolve_storage_url)


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


def make_sampler(spec: StudySpec, *, n_existing: int) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded from the study seed *and* the trials already there.

    Seeding with the existing count keeps a resumed run from replaying the first run's
    random start-up configurations.
    """
    seed = derive_seed(spec.seed, n_existing, 1)  # 3 parts: never equal to a trial's seed
    if spec.sampler.name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=spec.sampler.n_startup_trials,
                                      multivariate=spec.sampler.multivariate, group=spec.sampler.multivariate)


def make_pruner(pruner: PrunerSpec, *, max_epochs: int) -> optuna.pruners.BasePruner:
    if pruner.name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=pruner.n_startup_trials,
                                           n_warmup_steps=pruner.n_warmup_steps)
    if pruner.name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=pruner.min_resource, max_resource=max_epochs,
                                              reduction_factor=pruner.reduction_factor)
    return optuna.pruners.NopPruner()


def run_study(spec: StudySpec, *, n_trials: int | None = None, storage: str | None = None,
              study_name: str | None = None, pruner: str | None = None, threads: int | None = None,
              data_dir: str | None = None, device: str = "cpu", progress: Progress | None = None) -> RunSummary:
    """Run ``spec`` until its study holds ``n_trials`` finished (complete or pruned) trials.

    Re-running after an interruption tops the study up rather than starting over. Raises
    :class:`~autotune.errors.Interrupted` on Ctrl-C/SIGTERM after marking the running trial failed.
    """
    target = spec.trials if n_trials is None else n_trials
    if target < 1:
        raise AutotuneError(f"--trials must be >= 1, got {target}")
    if pruner is not None:
        if pruner not in PRUNERS:
            raise AutotuneError(f"unknown pruner '{pruner}'; allowed: {', '.join(PRUNERS)}")
        if pruner != spec.pruner.name:
            spec = replace(spec, pruner=PrunerSpec(name=pruner))
    if threads is not None:
        if threads < 1:
            raise AutotuneError(f"--threads must be >= 1, got {threads}")
    url = resolve_storage_url(storage)
    check_url(url)
    name = study_name or spec.name
    progress = progress or Progress()

    # Load data before touching the database: a missing dataset must not leave an empty study.
    from autotune.data import load_splits

    splits = load_splits(spec.dataset, validation_size=spec.validation_size, seed=spec.seed,
                         train_subset=spec.train_subset, data_dir=data_dir)
    import torch

    if threads is not None:  # default: torch's own choice (all physical cores, or $OMP_NUM_THREADS)
        torch.set_num_threads(threads)

    rdb = open_storage(url)
    existing = _count_existing(rdb, name)
    study = create_or_load_study(rdb, spec, study_name=name, sampler=make_sampler(spec, n_existing=existing),
                                 pruner=make_pruner(spec.pruner, max_epochs=spec.max_epochs))
    study.set_user_attr("target_trials", target)
    before = count_finished(study)
    pruned_before = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    start = time.perf_counter()
    if before < target:
        from autotune.objective import Objective

        objective = Objective(spec, splits, device=device, on_epoch=progress.epoch)
        progress.start(study_name=name, done=before, target=target, max_epochs=spec.max_epochs, metric=spec.metric)
        try:
            study.optimize(objective, n_trials=target - before, gc_after_trial=False,
                           callbacks=[optuna.study.MaxTrialsCallback(target, states=FINISHED_STATES),
                                      progress.trial_finished])
        except KeyboardInterrupt:
            progress.stop()
            done = count_finished(study)
            raise Interrupted(f"interrupted: {done} of {target} trials finished in study '{name}'; "
                              f"the running trial was marked FAIL; run the same command again to continue") from None
        progress.stop()
    return summarize(study, storage_url=url, target=target, finished_before=before,
                     pruned_before=pruned_before, seconds=time.perf_counter() - start)


def summarize(study: optuna.Study, *, storage_url: str, target: int, finished_before: int, pruned_before: int,
              seconds: float) -> RunSummary:
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state.name for t in trials)
    try:
        best = study.best_trial
    except ValueError:
        best = None
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
    )


def _count_existing(storage: optuna.storages.RDBStorage, name: str) -> int:
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        return 0
    return len(storage.get_all_trials(study_id, deepcopy=False))
