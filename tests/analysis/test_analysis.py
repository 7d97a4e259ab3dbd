"""The numbers behind a report, on studies whose trials are written by hand (real in-memory Optuna)."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from autotune.analysis import summary as analysis
from autotune.spec.study import parse_spec
from tests.conftest import tiny_digits_spec

OPT = CategoricalDistribution(["adam", "sgd"])


def _study(trials, direction="maximize"):
    study = optuna.create_study(direction=direction)
    for params, dists, value, state, epochs in trials:
        study.add_trial(
            create_trial(
                params=params,
                distributions=dists,
                state=state,
                value=value if state == TrialState.COMPLETE else None,
                intermediate_values={epochs: value} if value is not None else {},
                user_attrs={"epochs": epochs},
            )
        )
    return study


def test_effects_of_a_categorical_parameter_are_group_means_with_counts():
    c = TrialState.COMPLETE
    study = _study(
        [({"optimizer": "adam"}, {"optimizer": OPT}, v, c, 3) for v in (0.9, 0.8, 0.85)]
        + [({"optimizer": "sgd"}, {"optimizer": OPT}, v, c, 3) for v in (0.5, 0.6, 0.4)]
    )
    (effect,) = analysis.effects(study, parse_spec(tiny_digits_spec()))
    assert (effect["param"], effect["kind"], effect["best"], effect["best_n"], effect["worst"], effect["worst_n"]) == (
        "optimizer",
        "value",
        "adam",
        3,
        "sgd",
        3,
    )
    assert effect["best_mean"] == pytest.approx(0.85) and effect["difference"] == pytest.approx(0.35)


def test_a_value_backed_by_fewer_than_three_trials_is_never_named_best_or_worst():
    """The walk-through's 'optimizer: best value sgd (mean 95.82%, 1 trials)'."""
    c = TrialState.COMPLETE
    study = _study(
        [({"optimizer": "adam"}, {"optimizer": OPT}, v, c, 3) for v in (0.9, 0.8, 0.85, 0.86)]
        + [({"optimizer": "sgd"}, {"optimizer": OPT}, 0.99, c, 3)]
    )
    (effect,) = analysis.effects(study, parse_spec(tiny_digits_spec()))
    assert effect["too_few"] and "best" not in effect
    assert effect["groups"] == {"adam": {"mean": pytest.approx(0.8525), "n": 4}, "sgd": {"mean": 0.99, "n": 1}}


def test_effects_of_a_numeric_parameter_are_thirds_of_its_sorted_values():
    dist = {"lr": FloatDistribution(0.0001, 1.0, log=True)}
    values = {0.001: 0.2, 0.002: 0.3, 0.003: 0.25, 0.01: 0.9, 0.02: 0.8, 0.03: 0.85, 0.1: 0.4, 0.2: 0.5, 0.3: 0.45}
    study = _study([({"lr": lr}, dist, v, TrialState.COMPLETE, 3) for lr, v in values.items()])
    (effect,) = analysis.effects(study, parse_spec(tiny_digits_spec()))
    assert effect["kind"] == "range"
    assert effect["groups"] == {
        "[0.001, 0.01]": {"mean": pytest.approx(0.25), "n": 3},
        "[0.01, 0.1]": {"mean": pytest.approx(0.85), "n": 3},
        "[0.1, 0.3]": {"mean": pytest.approx(0.45), "n": 3},
    }
    assert (effect["best"], effect["worst"]) == ("[0.01, 0.1]", "[0.001, 0.01]")


def test_pruned_trials_count_as_evidence_at_the_epoch_every_trial_reached():
    """The seeds' finding 'zero initialisation never learns': every init=zeros trial was pruned at epoch 1."""
    init = {"init": CategoricalDistribution(["zeros", "xavier_uniform"])}
    study = optuna.create_study(direction="maximize")
    for v in (0.95, 0.96, 0.94):
        study.add_trial(
            create_trial(
                params={"init": "xavier_uniform"},
                distributions=init,
                value=v + 0.02,
                intermediate_values={1: v, 2: v + 0.02},
                state=TrialState.COMPLETE,
            )
        )
    for _ in range(3):
        study.add_trial(
            create_trial(
                params={"init": "zeros"}, distributions=init, intermediate_values={1: 0.1167}, state=TrialState.PRUNED
            )
        )
    spec = parse_spec(tiny_digits_spec())
    pairs, basis = analysis.evidence(study, spec)
    assert str(basis) == (
        "val_accuracy at epoch 1, the latest epoch every finished trial reached, over all 6 finished "
        "trials (3 of them pruned, at or after that epoch)"
    )
    assert sorted(v for _, v in pairs) == [0.1167] * 3 + [0.94, 0.95, 0.96]
    (effect,) = analysis.effects(study, spec)
    assert (effect["best"], effect["worst"], effect["worst_n"]) == ("xavier_uniform", "zeros", 3)
    assert effect["difference"] == pytest.approx(0.95 - 0.1167)


def test_parameters_that_always_change_together_are_reported_as_confounded():
    dists = {
        "augment": CategoricalDistribution([False, True]),
        "batch_norm": CategoricalDistribution([False, True]),
        "optimizer": OPT,
    }
    study = optuna.create_study(direction="maximize")
    for i in range(6):
        on = i % 2 == 0
        study.add_trial(
            create_trial(
                params={"augment": on, "batch_norm": on, "optimizer": ["adam", "sgd"][i // 3]},
                distributions=dists,
                value=0.5 + i / 100,
                state=TrialState.COMPLETE,
            )
        )
    assert analysis.confounded(study, parse_spec(tiny_digits_spec())) == [("augment", "batch_norm")]


def test_depth_width_keeps_the_best_value_per_depth_and_power_of_two_width():
    dists = {
        "n_layers": IntDistribution(1, 2),
        "units_l0": IntDistribution(16, 64),
        "units_l1": IntDistribution(16, 64),
    }
    study = _study(
        [
            (
                {"n_layers": 1, "units_l0": 60},
                {k: dists[k] for k in ("n_layers", "units_l0")},
                0.7,
                TrialState.COMPLETE,
                3,
            ),
            (
                {"n_layers": 1, "units_l0": 64},
                {k: dists[k] for k in ("n_layers", "units_l0")},
                0.9,
                TrialState.COMPLETE,
                3,
            ),
            ({"n_layers": 2, "units_l0": 16, "units_l1": 20}, dists, 0.6, TrialState.COMPLETE, 3),
        ]
    )
    grid = analysis.depth_width(study, parse_spec(tiny_digits_spec()))
    assert grid == {"depths": [1, 2], "widths": [16, 64], "best": [[None, 0.9], [0.6, None]], "per_layer": "units"}


def test_summary_counts_states_epochs_and_what_pruning_saved():
    dist = {"optimizer": OPT}
    study = _study(
        [
            ({"optimizer": "adam"}, dist, 0.9, TrialState.COMPLETE, 3),
            ({"optimizer": "sgd"}, dist, 0.2, TrialState.PRUNED, 1),
            ({"optimizer": "sgd"}, dist, None, TrialState.FAIL, 0),
        ]
    )
    s = analysis.summary(study, parse_spec(tiny_digits_spec(max_epochs=3)))
    assert s["states"] == {"COMPLETE": 1, "FAIL": 1, "PRUNED": 1} and s["n_trials"] == 3
    assert (s["best_trial"], s["best_value"], s["best_params"]) == (0, 0.9, {"optimizer": "adam"})
    assert (s["epochs_trained"], s["epochs_without_pruning"], s["pruning_saved"]) == (4, 6, round(1 - 4 / 6, 3))


def test_best_practice_needs_30_complete_trials_and_two_importances_agreeing_on_the_first_place():
    """#31, 5: "Best practice" led with dropout at PED-ANOVA 0.53 over 11 trials while fANOVA ranked it 12th."""
    from autotune.analysis.summary import PRACTICE_MIN_TRIALS, practice_supported

    agree = {"default": {"lr": {}, "dropout": {}}, "fanova": {"lr": {}, "dropout": {}}}
    differ = {"default": {"dropout": {}, "lr": {}}, "fanova": {"lr": {}, "dropout": {}}}
    assert PRACTICE_MIN_TRIALS == 30
    assert practice_supported(agree, 30) and not practice_supported(agree, 29)
    assert not practice_supported(differ, 100)
    assert not practice_supported({"default": {"lr": {}}, "fanova": {"error": "needs two"}}, 100)
