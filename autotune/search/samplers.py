"""The search algorithms: a spec's sampler and pruner as Optuna objects."""

from __future__ import annotations

import optuna

from autotune.base.seeding import derive_seed
from autotune.spec.study import PrunerSpec, StudySpec


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
    return optuna.samplers.TPESampler(
        seed=seed,
        n_startup_trials=spec.sampler.n_startup_trials,
        multivariate=spec.sampler.multivariate,
        group=spec.sampler.multivariate,
    )


def make_pruner(pruner: PrunerSpec, *, max_epochs: int) -> optuna.pruners.BasePruner:
    if pruner.name == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=pruner.n_startup_trials, n_warmup_steps=pruner.n_warmup_steps
        )
    if pruner.name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=pruner.min_resource, reduction_factor=pruner.reduction_factor
        )
    if pruner.name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=pruner.min_resource, max_resource=max_epochs, reduction_factor=pruner.reduction_factor
        )
    return optuna.pruners.NopPruner()
