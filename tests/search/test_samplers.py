"""The spec's sampler and pruner as Optuna objects, seeded so resumed runs and parallel workers differ."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from autotune.base.seeding import derive_seed
from autotune.search.samplers import make_pruner, make_sampler
from autotune.spec.study import PrunerSpec, parse_spec
from tests.conftest import tiny_digits_spec


def _first_lr(sampler: optuna.samplers.BaseSampler) -> float:
    study = optuna.create_study(sampler=sampler)
    return study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True)}).params["lr"]


def test_the_seed_depends_on_the_trials_already_there_and_on_the_salt():
    spec = parse_spec(tiny_digits_spec())
    same = [_first_lr(make_sampler(spec, n_existing=0)) for _ in range(2)]
    assert same[0] == same[1]  # reproducible
    assert _first_lr(make_sampler(spec, n_existing=5)) != same[0]  # a resumed run does not replay the start-up
    assert _first_lr(make_sampler(spec, n_existing=0, salt=1234)) != same[0]  # workers started together differ


def _seeded_with(rng, seed: int) -> bool:
    """Whether Optuna's LazyRandomState ``rng`` (not drawn from yet) is NumPy's generator seeded with ``seed``."""
    return np.array_equal(rng.rng.get_state()[1], np.random.RandomState(seed).get_state()[1])


def test_each_sampler_and_pruner_name_gives_its_optuna_class():
    assert isinstance(make_sampler(parse_spec(tiny_digits_spec()), n_existing=0), optuna.samplers.TPESampler)
    assert isinstance(
        make_sampler(parse_spec(tiny_digits_spec(sampler={"name": "random"})), n_existing=0),
        optuna.samplers.RandomSampler,
    )
    kinds = {
        "median": optuna.pruners.MedianPruner,
        "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
        "hyperband": optuna.pruners.HyperbandPruner,
        "none": optuna.pruners.NopPruner,
    }
    for name, cls in kinds.items():
        assert isinstance(make_pruner(PrunerSpec(name=name), max_epochs=4), cls), name


# The settings below are read from Optuna 5's private attributes, on purpose: Optuna has no public getters for
# them, and only they show that each spec setting reached the Optuna object. The values differ from Optuna's own
# defaults (TPE: 10 start-up trials, not multivariate; median: 5 and 0; successive halving: "auto" and 4;
# Hyperband: 1, "auto" and 3; NSGA-II: 50), so a setting that is dropped on the way fails here.


@pytest.mark.parametrize("multivariate", [False, True])
def test_the_samplers_carry_the_specs_settings_and_seed(multivariate):
    """TPE gets the spec's start-up trials and multivariate (and group with it); every sampler the derived seed."""
    spec = parse_spec(
        tiny_digits_spec(seed=11, sampler={"name": "tpe", "n_startup_trials": 4, "multivariate": multivariate})
    )
    seed = derive_seed(11, 3, 1, 99)  # the study seed, the trials already there, the salt
    tpe = make_sampler(spec, n_existing=3, salt=99)
    assert type(tpe) is optuna.samplers.TPESampler
    assert (tpe._n_startup_trials, tpe._multivariate, tpe._group) == (4, multivariate, multivariate)
    assert _seeded_with(tpe._rng, seed) and _seeded_with(tpe._random_sampler._rng, seed)
    assert not _seeded_with(tpe._rng, derive_seed(11, 3, 1, 0))  # the check tells seeds apart
    random = make_sampler(parse_spec(tiny_digits_spec(seed=11, sampler={"name": "random"})), n_existing=3, salt=99)
    assert type(random) is optuna.samplers.RandomSampler
    assert _seeded_with(random._rng, seed)
    nsga2 = make_sampler(
        parse_spec(tiny_digits_spec(seed=11, sampler={"name": "nsga2", "population_size": 6})), n_existing=3, salt=99
    )
    assert type(nsga2) is optuna.samplers.NSGAIISampler
    assert nsga2.population_size == 6 and _seeded_with(nsga2._rng, seed)


def test_the_pruners_carry_the_specs_settings():
    """Each pruner gets the settings its spec names; Hyperband's largest resource is the study's max_epochs."""
    median = make_pruner(
        parse_spec(tiny_digits_spec(pruner={"name": "median", "n_startup_trials": 7, "n_warmup_steps": 3})).pruner,
        max_epochs=9,
    )
    assert type(median) is optuna.pruners.MedianPruner
    assert (
        median._percentile,
        median._n_startup_trials,
        median._n_warmup_steps,
        median._interval_steps,
        median._n_min_trials,
    ) == (50.0, 7, 3, 1, 1)
    sha = make_pruner(
        parse_spec(
            tiny_digits_spec(pruner={"name": "successive_halving", "min_resource": 2, "reduction_factor": 5})
        ).pruner,
        max_epochs=9,
    )
    assert type(sha) is optuna.pruners.SuccessiveHalvingPruner
    assert (sha._min_resource, sha._reduction_factor, sha._min_early_stopping_rate, sha._bootstrap_count) == (
        2,
        5,
        0,
        0,
    )
    hyperband = make_pruner(
        parse_spec(tiny_digits_spec(pruner={"name": "hyperband", "min_resource": 2, "reduction_factor": 2})).pruner,
        max_epochs=9,
    )
    assert type(hyperband) is optuna.pruners.HyperbandPruner
    assert (
        hyperband._min_resource,
        hyperband._max_resource,
        hyperband._reduction_factor,
        hyperband._bootstrap_count,
    ) == (2, 9, 2, 0)
    assert type(make_pruner(parse_spec(tiny_digits_spec(pruner={"name": "none"})).pruner, max_epochs=9)) is (
        optuna.pruners.NopPruner
    )
