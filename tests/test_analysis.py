"""The numbers behind a report, on studies whose trials are written by hand (real in-memory Optuna)."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from autotune import analysis
from autotune.spec import parse_spec
from tests.conftest import tiny_digits_spec

OPT = CategoricalDistribution(["adam", "sgd"])


def _study(trials, direction="maximize"):
    study = optuna.create_study(direction=direction)
    for params, dists, value, state, epochs in trials:
        study.add_trial(create_trial(params=params, distributions=dists, state=state,
                                     value=value if state == TrialState.COMPLETE else None,
                                     intermediate_values={epochs: value} if value is not None else {},
                                     user_attrs={"epochs": epochs}))
    return study


def test_effects_of_a_categorical_parameter_are_group_means_with_counts():
    study = _study([({"optimizer": "adam"}, {"optimizer": OPT}, 0.9, TrialState.COMPLETE, 3),
                    ({"optimizer": "adam"}, {"optimizer": OPT}, 0.8, TrialState.COMPLETE, 3),
                    ({"optimizer": "sgd"}, {"optimizer": OPT}, 0.5, TrialState.COMPLETE, 3)])
    (effect,) = analysis.effects(study, parse_spec(tiny_digits_spec()))
    assert (effect["param"], effect["kind"], effect["best"], effect["best_n"], effect["worst"], effect["worst_n"]) == (
        "optimizer", "value", "adam", 2, "sgd", 1)
    assert effect["best_mean"] == pytest.approx(0.85) and effect["difference"] == pytest.approx(0.35)


def test_effects_of_a_numeric_parameter_are_thirds_of_its_sorted_values():
    dist = {"lr": FloatDistribution(0.001, 1.0, log=True)}
    values = {0.001: 0.2, 0.002: 0.3, 0.01: 0.9, 0.02: 0.8, 0.1: 0.4, 0.2: 0.5}
    study = _study([({"lr": lr}, dist, v, TrialState.COMPLETE, 3) for lr, v in values.items()])
    (effect,) = analysis.effects(study, parse_spec(tiny_digits_spec()))
    assert effect["kind"] == "range"
    assert effect["groups"] == {"[0.001, 0.01]": {"mean": pytest.approx(0.25), "n": 2},
                                "[0.01, 0.1]": {"mean": pytest.approx(0.85), "n": 2},
                                "[0.1, 0.2]": {"mean": pytest.approx(0.45), "n": 2}}
    assert (effect["best"], effect["worst"]) == ("[0.01, 0.1]", "[0.001, 0.01]")


def test_depth_width_keeps_the_best_value_per_depth_and_power_of_two_width():
    dists = {"n_layers": IntDistribution(1, 2), "units_l0": IntDistribution(16, 64), "units_l1": IntDistribution(16, 64)}
    study = _study([({"n_layers": 1, "units_l0": 60}, {k: dists[k] for k in ("n_layers", "units_l0")}, 0.7,
                     TrialState.COMPLETE, 3),
                    ({"n_layers": 1, "units_l0": 64}, {k: dists[k] for k in ("n_layers", "units_l0")}, 0.9,
                     TrialState.COMPLETE, 3),
                    ({"n_layers": 2, "units_l0": 16, "units_l1": 20}, dists, 0.6, TrialState.COMPLETE, 3)])
    grid = analysis.depth_width(study, parse_spec(tiny_digits_spec()))
    assert grid == {"depths": [1, 2], "widths": [16, 64], "best": [[None, 0.9], [0.6, None]], "per_layer": "units"}


def test_summary_counts_states_epochs_and_what_pruning_saved():
    dist = {"optimizer": OPT}
    study = _study([({"optimizer": "adam"}, dist, 0.9, TrialState.COMPLETE, 3),
                    ({"optimizer": "sgd"}, dist, 0.2, TrialState.PRUNED, 1),
                    ({"optimizer": "sgd"}, dist, None, TrialState.FAIL, 0)])
    s = analysis.summary(study, parse_spec(tiny_digits_spec(max_epochs=3)))
    assert s["states"] == {"COMPLETE": 1, "FAIL": 1, "PRUNED": 1} and s["n_trials"] == 3
    assert (s["best_trial"], s["best_value"], s["best_params"]) == (0, 0.9, {"optimizer": "adam"})
    assert (s["epochs_trained"], s["epochs_without_pruning"], s["pruning_saved"]) == (4, 6, round(1 - 4 / 6, 3))
