"""Objectives and constraints in specs, and the helpers every command uses to read them."""

import math

import optuna
import pytest

from autotune.errors import AutotuneError, SpecError
from autotune.search import goals
from autotune.spec.study import ConstraintSpec, ObjectiveSpec, load_spec, parse_spec
from tests.conftest import tiny_digits_spec


def multi_spec(**overrides) -> dict:
    spec = tiny_digits_spec(objectives=["val_accuracy", {"metric": "train_seconds"}], constraints=["params <= 2000"])
    del spec["pruner"]
    spec.update(overrides)
    return spec


def test_objectives_and_constraints_are_parsed_with_their_natural_directions():
    spec = parse_spec(multi_spec(objectives=["val_accuracy", "params", {"metric": "latency_ms"}]))
    assert spec.objectives == (
        ObjectiveSpec("val_accuracy", "maximize"),
        ObjectiveSpec("params", "minimize"),
        ObjectiveSpec("latency_ms", "minimize"),
    )
    assert (spec.metric, spec.direction, spec.multi_objective) == ("val_accuracy", "maximize", True)
    assert spec.constraints == (ConstraintSpec("params", "<=", 2000.0),)
    assert spec.pruner.name == "none"  # no pruner applies to several objectives
    assert spec.needs("latency_ms") and spec.needs("params") and not spec.needs("val_loss")


def test_a_multi_objective_spec_round_trips_through_to_dict():
    spec = parse_spec(multi_spec(constraints=["params<=2e3", "latency_ms >= 0.5"]))
    again = parse_spec(spec.to_dict())
    assert again == spec
    assert spec.to_dict()["constraints"] == ["params <= 2000", "latency_ms >= 0.5"]
    assert "metric" not in spec.to_dict()


def test_single_objective_fingerprints_are_unchanged_so_stored_studies_still_load():
    # the value every study created from the shipped mlp-digits spec carries since the first release
    assert load_spec("mlp-digits").fingerprint() == "2159127ceb5e5f5a"
    single = parse_spec(tiny_digits_spec())
    assert "objectives" not in single.to_dict() and "constraints" not in single.to_dict()
    assert single.objectives == (ObjectiveSpec("val_accuracy", "maximize"),)


def test_a_constraint_on_a_single_objective_changes_the_fingerprint():
    plain = parse_spec(tiny_digits_spec())
    constrained = parse_spec(tiny_digits_spec(constraints=["params <= 5000"]))
    assert plain.fingerprint() != constrained.fingerprint()
    assert constrained.pruner.name == "median"  # pruning still works with one objective


BAD = [
    (
        {"objectives": ["val_accuracy", "accuracy_per_watt"]},
        "objectives[1].metric: must be one of val_accuracy, "
        "val_loss, train_seconds, params, latency_ms; got "
        "'accuracy_per_watt'",
    ),
    (
        {"objectives": ["val_accuracy", {"metric": "params", "direction": "smaller"}]},
        "objectives[1].direction: must be one of maximize, minimize; got 'smaller'",
    ),
    (
        {"objectives": ["train_seconds", "val_accuracy"]},
        "objectives[0].metric: the first objective is the validation metric",
    ),
    (
        {"objectives": ["val_accuracy", {"metric": "val_loss", "direction": "maximize"}]},
        "objectives[1].direction: 'val_loss' must be minimized, got 'maximize'",
    ),
    ({"objectives": ["val_accuracy", "params", "params"]}, "objectives[2].metric: 'params' is listed twice"),
    ({"objectives": []}, "objectives: must be a non-empty list"),
    ({"objectives": "val_accuracy"}, "objectives: must be a non-empty list"),
    (
        {"objectives": ["val_accuracy", {"metric": "params", "weight": 2}]},
        "objectives[1].weight: unknown key; allowed: direction, metric",
    ),
    ({"metric": "val_accuracy"}, "metric: give either 'metric'/'direction' (one objective) or 'objectives'"),
    ({"pruner": {"name": "median"}}, "pruner.name: Optuna's pruners work on one objective only, got 'median'"),
    (
        {"constraints": ["params < 2000"]},
        "constraints[0]: must read 'METRIC <= NUMBER' or 'METRIC >= NUMBER', got 'params < 2000'",
    ),
    ({"constraints": ["flops <= 10"]}, "constraints[0]: unknown metric 'flops'; allowed: val_accuracy"),
    ({"constraints": ["params <= lots"]}, "constraints[0]: the bound must be a finite number, got 'lots'"),
    ({"constraints": ["params <= nan"]}, "constraints[0]: the bound must be a finite number, got 'nan'"),
    ({"constraints": ["params <= inf"]}, "constraints[0]: the bound must be a finite number, got 'inf'"),
    ({"constraints": "params <= 5"}, "constraints: must be a list like ['params <= 200000']"),
    ({"constraints": [{"params": 5}]}, "constraints[0]: must read 'METRIC <= NUMBER'"),
    ({"sampler": {"name": "nsga2", "population_size": 1}}, "sampler.population_size: must be >= 2, got 1"),
]


@pytest.mark.parametrize("overrides, expected", BAD, ids=[e for _, e in BAD])
def test_bad_objectives_and_constraints_give_precise_errors(overrides, expected):
    with pytest.raises(SpecError) as info:
        parse_spec(multi_spec(**overrides), source="my.yaml")
    assert str(info.value).startswith("my.yaml: ")
    assert expected in str(info.value)


def test_val_accuracy_needs_a_classification_dataset_in_objectives_and_constraints():
    sine = {"name": "s", "dataset": "sine", "model": "mlp", "space": {"lr": {"low": 0.001, "high": 0.1}}}
    with pytest.raises(SpecError, match=r"objectives\[0\].metric: 'val_accuracy' needs a classification dataset"):
        parse_spec({**sine, "objectives": ["val_accuracy", "params"]})
    with pytest.raises(SpecError, match=r"constraints\[0\]: 'val_accuracy' needs a classification dataset"):
        parse_spec({**sine, "constraints": ["val_accuracy >= 0.5"]})
    ok = parse_spec({**sine, "objectives": ["val_loss", "params"]})
    assert ok.directions == ("minimize", "minimize")


def test_constraint_violation_is_positive_exactly_when_broken():
    at_most, at_least = ConstraintSpec("params", "<=", 100.0), ConstraintSpec("val_accuracy", ">=", 0.9)
    assert [at_most.violation(v) for v in (50, 100, 150)] == [-50.0, 0.0, 50.0]
    assert at_least.violation(0.95) == pytest.approx(-0.05) and at_least.violation(0.8) == pytest.approx(0.1)
    spec = parse_spec(multi_spec(constraints=["params <= 100", "latency_ms <= 1"]))
    assert goals.violations(spec, {"params": 150, "latency_ms": None}) == {
        "params <= 100": 50.0,
        "latency_ms <= 1": math.inf,
    }


def test_dominates():
    directions = ("maximize", "minimize")
    assert goals.dominates([0.9, 1.0], [0.8, 2.0], directions)
    assert goals.dominates([0.9, 1.0], [0.9, 2.0], directions)
    assert not goals.dominates([0.9, 1.0], [0.9, 1.0], directions)  # equal: neither dominates
    assert not goals.dominates([0.9, 3.0], [0.8, 2.0], directions)  # a trade-off


def test_objective_index_takes_a_name_or_a_position():
    spec = parse_spec(multi_spec())
    assert [goals.objective_index(spec, w) for w in (None, "val_accuracy", "train_seconds", "1")] == [0, 0, 1, 1]
    with pytest.raises(
        AutotuneError,
        match="objective 'params' is not an objective of this study; allowed: 0 or val_accuracy, 1 or train_seconds",
    ):
        goals.objective_index(spec, "params")
    with pytest.raises(AutotuneError, match="objective '2'"):
        goals.objective_index(spec, "2")


def test_best_trial_by_objective_skips_infeasible_trials():
    study = optuna.create_study(directions=["maximize", "minimize"])
    for values, violation in (([0.99, 9.0], 5.0), ([0.95, 3.0], -1.0), ([0.90, 1.0], -1.0)):
        study.add_trial(optuna.trial.create_trial(values=values, system_attrs={"constraints:params <= 1": violation}))
    assert goals.best_trial(study, 0).number == 1  # trial 0 is more accurate but breaks the constraint
    assert goals.best_trial(study, 1).number == 2
    assert [t.number for t in goals.pareto_front(study)] == [1, 2]
    assert [goals.feasible(t) for t in study.trials] == [False, True, True]
