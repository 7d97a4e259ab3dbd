"""The spec's sampler and pruner as Optuna objects, seeded so resumed runs and parallel workers differ."""

from __future__ import annotations

import optuna

from autotune.samplers import make_pruner, make_sampler
from autotune.spec import PrunerSpec, parse_spec
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


def test_each_sampler_and_pruner_name_gives_its_optuna_class():
    assert isinstance(make_sampler(parse_spec(tiny_digits_spec()), n_existing=0), optuna.samplers.TPESampler)
    assert isinstance(make_sampler(parse_spec(tiny_digits_spec(sampler={"name": "random"})), n_existing=0),
                      optuna.samplers.RandomSampler)
    kinds = {"median": optuna.pruners.MedianPruner, "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
             "hyperband": optuna.pruners.HyperbandPruner, "none": optuna.pruners.NopPruner}
    for name, cls in kinds.items():
        assert isinstance(make_pruner(PrunerSpec(name=name), max_epochs=4), cls), name
