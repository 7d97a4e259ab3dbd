"""Importance and its bootstrap intervals, on studies whose trials are written by hand (real in-memory Optuna)."""

from __future__ import annotations

import random
import statistics

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.importance import BaseImportanceEvaluator
from optuna.trial import TrialState, create_trial

from autotune.analysis import importance
from autotune.analysis import summary as analysis

DISTS = {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)}


def _study(n: int, *, seed: int = 0) -> optuna.Study:
    """``n`` complete trials whose value depends mostly on x, a little on y (and 2 pruned trials, never resampled)."""
    rng = random.Random(seed)
    study = optuna.create_study(direction="maximize")
    for _ in range(n):
        x, y = rng.random(), rng.random()
        study.add_trial(
            create_trial(params={"x": x, "y": y}, distributions=DISTS, value=x + 0.2 * y + 0.05 * rng.random())
        )
    for _ in range(2):
        study.add_trial(
            create_trial(
                params={"x": 0.5, "y": 0.5}, distributions=DISTS, state=TrialState.PRUNED, intermediate_values={1: 0.1}
            )
        )
    return study


class MeanValue(BaseImportanceEvaluator):
    """x's importance is the mean value of the study's complete trials, y's the rest: a number to check by hand."""

    def evaluate(self, study, params=None, *, target=None):
        mean = statistics.fmean(t.value for t in study.get_trials(states=(TrialState.COMPLETE,)))
        return {"x": mean, "y": 1 - mean}


def test_percentiles_of_fixed_numbers_interpolate_between_order_statistics():
    assert importance.percentile_interval(list(range(101))) == [2.5, 97.5]
    # 4 values: the 2.5th percentile lies 0.075 of the way from the 1st to the 2nd, the 97.5th 0.925 from 3rd to 4th
    assert importance.percentile_interval([4.0, 1.0, 3.0, 2.0]) == pytest.approx([1.075, 3.925])
    assert importance.percentile_interval([0.3] * 30) == [0.3, 0.3]


def test_resamples_draw_with_replacement_from_a_fixed_seed():
    drawn = importance.resamples(12, rounds=30, seed=0)
    assert len(drawn) == 30 and all(len(d) == 12 and set(d) <= set(range(12)) for d in drawn)
    assert any(len(set(d)) < 12 for d in drawn)  # with replacement: some trial drawn twice
    assert drawn == importance.resamples(12, rounds=30, seed=0) != importance.resamples(12, rounds=30, seed=1)


def test_the_interval_is_the_percentiles_of_the_importance_on_exactly_the_resampled_trials():
    study = _study(12)
    values = [t.value for t in study.get_trials(states=(TrialState.COMPLETE,))]
    by_hand = [statistics.fmean(values[i] for i in drawn) for drawn in importance.resamples(12, rounds=30, seed=0)]
    got = importance.bootstrap(study, MeanValue)
    assert got["x"] == pytest.approx(list(np.percentile(by_hand, [2.5, 97.5])), abs=1e-12)
    assert got["y"] == pytest.approx(list(np.percentile([1 - m for m in by_hand], [2.5, 97.5])), abs=1e-12)
    assert importance.bootstrap(study, MeanValue, rounds=5)["x"] == pytest.approx(
        list(np.percentile(by_hand[:5], [2.5, 97.5])), abs=1e-12
    )


def test_same_study_same_intervals_and_only_ped_anova_is_resampled():
    study = _study(15)
    first, again = importance.importances(study), importance.importances(study)
    assert first == again
    copy = optuna.create_study(direction="maximize")
    copy.add_trials(study.trials)
    assert importance.importances(copy) == first
    intervals = {p: v["interval"] for p, v in first["default"].items()}
    assert set(intervals) == {"x", "y"} and all(low <= high for low, high in intervals.values())
    assert all("interval" not in v for v in first["fanova"].values())
    # x drives the value, but 15 trials cannot show it: the intervals overlap; 60 trials separate them
    assert importance.overlapping(list(intervals.items())) == [(1, "x", "y")]
    wide = importance.importances(_study(60))["default"]
    assert list(wide) == ["x", "y"] and wide["x"]["interval"][0] > wide["y"]["interval"][1]
    assert analysis.importances is importance.importances  # the old name still works


def test_no_interval_below_the_minimum_number_of_complete_trials():
    assert importance.MIN_TRIALS_FOR_INTERVAL == 10
    few = importance.importances(_study(9))  # 9 complete (and 2 pruned) trials
    assert all(v["interval"] is None for v in few["default"].values())
    assert importance.bootstrap(_study(9), MeanValue) is None
    enough = importance.importances(_study(10))
    assert all(v["interval"] is not None for v in enough["default"].values())


def test_a_resample_that_cannot_be_evaluated_gives_no_interval():
    class Fails(BaseImportanceEvaluator):
        def evaluate(self, study, params=None, *, target=None):
            raise RuntimeError("Encountered zero total variance in all trees.")

    assert importance.bootstrap(_study(12), Fails) is None


def test_neighbours_overlap_when_their_intervals_share_a_value():
    ranked = [
        ("a", [0.5, 0.7]),
        ("b", [0.4, 0.6]),
        ("c", [0.1, 0.3]),
        ("d", [0.3, 0.35]),
        ("e", [0.0, 0.29]),
        ("f", None),
        ("g", [0.0, 0.1]),
    ]
    # c and d touch at 0.3; e and f, f and g: f has no interval, so nothing is said of it
    assert importance.overlapping(ranked) == [(1, "a", "b"), (3, "c", "d")]


def test_a_maximised_objective_of_a_multi_objective_study_is_ranked_for_high_values():
    """Given a target, PED-ANOVA takes lower as better: a maximised objective must be negated. Here the top of
    objective 0 is decided by b alone (b > 0.9), its bottom by a: ranking for low values would put a first."""
    import numpy as np
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import create_trial

    from autotune.analysis.importance import importances

    rng = np.random.default_rng(0)
    dists = {"a": FloatDistribution(0, 1), "b": FloatDistribution(0, 1)}
    study = optuna.create_study(directions=["maximize", "minimize"])
    for a, b in rng.random((80, 2)):
        study.add_trial(
            create_trial(
                params={"a": float(a), "b": float(b)}, distributions=dists, values=[2.0 * (b > 0.9) + 0.1 * a, float(a)]
            )
        )
    assert list(importances(study, objective=0)["default"])[0] == "b"
    assert list(importances(study, objective=1)["default"])[0] == "a"  # minimised: as Optuna ranks it
