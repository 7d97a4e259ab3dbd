"""The objective: user attributes, pruning, divergence as a poor result, exact reproduction, remarks."""

from __future__ import annotations

import math

import optuna
import pytest

from autotune.base.timing import TIME_PARTS, time_line
from autotune.data.datasets import load_splits
from autotune.execution.objective import remark
from autotune.execution.runner import run_study
from autotune.search.samplers import make_pruner
from autotune.search.space import suggest
from autotune.spec.study import PrunerSpec, parse_spec
from autotune.training.loop import EpochStats, FitResult, fit
from tests.conftest import tiny_digits_spec

ATTRS = {
    "seed",
    "worker",
    "structure",
    "status",
    "epochs",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "n_params",
    "wall_time_s",
    "remark",
    "threads",
    "device",
    "precision",
}


def _load(name="tiny-digits", storage="sqlite:///autotune.db"):
    return optuna.load_study(study_name=name, storage=storage)


def test_trials_store_their_attributes_and_seed():
    spec = parse_spec(tiny_digits_spec())
    summary = run_study(spec, n_trials=4)
    assert summary.finished == 4
    study = _load()
    for t in study.trials:
        assert ATTRS <= set(t.user_attrs), t.number
        assert t.user_attrs["structure"].startswith("[64,") and t.user_attrs["structure"].endswith(",10]")
        assert t.user_attrs["epochs"] == len(t.intermediate_values)
        assert 0 < t.user_attrs["wall_time_s"] < 60
    seeds = [t.user_attrs["seed"] for t in study.trials]
    assert len(set(seeds)) == 4
    assert {t.user_attrs["precision"] for t in study.trials} == {"fp32"}  # the default
    assert study.user_attrs["spec"]["name"] == "tiny-digits"
    # where each trial's time went (#20): the parts add up to its total, and the run sums them
    for t in study.trials:
        parts = t.user_attrs["time_s"]
        assert list(parts) == [*TIME_PARTS, "total"]
        assert all(v >= 0 for v in parts.values()) and parts["train"] > 0 and parts["evaluate"] > 0
        assert sum(parts[k] for k in TIME_PARTS) == pytest.approx(parts["total"], abs=0.01)
        assert parts["total"] >= t.user_attrs["wall_time_s"] - 0.01  # fit() is inside the trial
    assert summary.time_s["trials"] == 4
    for k in (*TIME_PARTS, "total"):
        assert summary.time_s[k] == pytest.approx(sum(t.user_attrs["time_s"][k] for t in study.trials), abs=0.06)


def test_auto_precision_is_decided_per_trial_and_recorded(monkeypatch, bf16_here):
    """``auto`` looks at each trial's model: here (a rule set for the test) bf16 from 40 hidden units up."""
    from autotune.hardware import precision

    bf16_here(True)
    monkeypatch.setattr(precision, "MLP_MIN_WIDTH", 40)
    used = []
    real_fit = fit

    def spy(*args, **kwargs):
        used.append(kwargs["precision"])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr("autotune.execution.objective.fit", spy)
    spec = parse_spec(tiny_digits_spec(sampler={"name": "random"}, pruner={"name": "none"}, max_epochs=1))
    run_study(spec, n_trials=6, precision="auto")
    trials = _load().trials
    widest = [max(t.params[f"units_l{i}"] for i in range(t.params["n_layers"])) for t in trials]
    expected = ["bf16" if w >= 40 else "fp32" for w in widest]
    assert [t.user_attrs["precision"] for t in trials] == expected == used
    assert set(expected) == {"bf16", "fp32"}  # both sides of the rule were seen


def test_the_time_line_names_each_part_largest_first():
    totals = {
        "trials": 3,
        "build": 0.1,
        "train": 8.0,
        "evaluate": 1.0,
        "storage": 0.5,
        "artifacts": 0.2,
        "other": 0.2,
        "total": 10.0,
    }
    assert time_line(totals) == (
        "Time in 3 timed trial(s), 10.0 s: train 80% (8.0 s), evaluate 10% (1.0 s), "
        "storage 5% (0.5 s), artifacts 2% (0.2 s), other 2% (0.2 s), build 1% (0.1 s)."
    )
    assert time_line({**dict.fromkeys(totals, 0), "trials": 0}) is None


def test_stored_trial_reproduces_bit_identically():
    spec = parse_spec(tiny_digits_spec(pruner={"name": "none"}))
    run_study(spec, n_trials=2)
    splits = load_splits("digits", validation_size=spec.validation_size, seed=spec.seed)
    for t in _load().trials:
        config = suggest(optuna.trial.FixedTrial(t.params), spec)
        result = fit(config, splits, family="mlp", max_epochs=spec.max_epochs, seed=t.user_attrs["seed"])
        assert result.history[-1].val_accuracy == t.value
        assert result.history[-1].train_loss == t.user_attrs["train_loss"]


def _poor_lr_spec(max_epochs: int, pruner: dict):
    """Random SGD trials over a wide lr range with zero init among the choices: many are poor, so a pruner acts."""
    return parse_spec(
        tiny_digits_spec(
            max_epochs=max_epochs,
            fixed={"optimizer": "sgd"},
            space={"lr": {"low": 1.0e-5, "high": 0.5, "log": True}, "init": ["default", "zeros"]},
            sampler={"name": "random"},
            pruner=pruner,
        )
    )


def test_median_pruning_stops_poor_trials():
    spec = _poor_lr_spec(4, {"name": "median", "n_startup_trials": 2, "n_warmup_steps": 0})
    summary = run_study(spec, n_trials=10)
    study = _load()
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert summary.finished == 10
    assert pruned and summary.pruned_this_run == len(pruned)
    for t in pruned:
        assert t.user_attrs["status"] == "pruned"
        assert t.user_attrs["epochs"] < 4
        assert t.user_attrs["remark"].startswith(f"pruned after epoch {t.user_attrs['epochs']}")


def test_pruner_none_prunes_nothing():
    spec = parse_spec(
        tiny_digits_spec(space={"lr": {"low": 1.0e-5, "high": 0.5, "log": True}}, sampler={"name": "random"})
    )
    run_study(spec, n_trials=6, pruner="none")
    assert not _load().get_trials(states=(optuna.trial.TrialState.PRUNED,))


def test_hyperband_pruner_stops_trials_at_its_rungs(monkeypatch):
    """Hyperband built with the spec's settings prunes poor trials, only at its rungs, with its own remark."""
    import autotune.execution.shared_study

    built = []

    def spy(pruner, *, max_epochs):
        built.append(make_pruner(pruner, max_epochs=max_epochs))
        return built[-1]

    monkeypatch.setattr(autotune.execution.shared_study, "make_pruner", spy)
    spec = _poor_lr_spec(6, {"name": "hyperband", "min_resource": 2, "reduction_factor": 2})
    summary = run_study(spec, n_trials=12, pruner="hyperband")  # the spec's own pruner: its settings are kept
    # the pruner the run used holds the spec's settings (Optuna's private attributes, read on purpose: Optuna's
    # defaults are min_resource 1, max_resource "auto", reduction_factor 3, so a dropped setting shows here)
    (pruner,) = built
    assert type(pruner) is optuna.pruners.HyperbandPruner
    assert (pruner._min_resource, pruner._max_resource, pruner._reduction_factor) == (2, 6, 2)
    study = _load()
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert summary.finished == 12 and pruned and summary.pruned_this_run == len(pruned)
    assert pruner._n_brackets == 2  # floor(log2(6 / 2)) + 1, set when it first pruned
    # rungs at min_resource * reduction_factor**k = 2 and 4 epochs (8 is past max_epochs): never at 1, 3 or 5,
    # and a trial that trained all 6 epochs is complete
    assert {t.user_attrs["epochs"] for t in pruned} == {2, 4}  # this seed's run stops trials at both rungs
    for t in pruned:
        assert t.user_attrs["status"] == "pruned" and len(t.intermediate_values) == t.user_attrs["epochs"]
        assert t.user_attrs["remark"] == (
            f"pruned after epoch {t.user_attrs['epochs']}: not in the best 1/2 of its Hyperband bracket at this rung"
        )
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert complete and all(t.user_attrs["epochs"] == 6 and t.value == t.intermediate_values[6] for t in complete)


def test_successive_halving_pruner_stops_trials_at_its_rungs():
    spec = parse_spec(
        tiny_digits_spec(
            max_epochs=4,
            pruner={"name": "successive_halving", "min_resource": 1, "reduction_factor": 2},
            space={"lr": {"low": 1.0e-5, "high": 0.5, "log": True}},
            sampler={"name": "random"},
        )
    )
    assert isinstance(make_pruner(spec.pruner, max_epochs=4), optuna.pruners.SuccessiveHalvingPruner)
    summary = run_study(spec, n_trials=8)
    study = _load()
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert summary.finished == 8 and pruned
    # rungs at 1, 2 and 4 epochs (min_resource * reduction_factor**k): a trial is only stopped at a rung,
    # never at 3, and never after its last epoch (4): a trial that trained to the end is complete
    assert {t.user_attrs["epochs"] for t in pruned} <= {1, 2}
    assert all(
        t.user_attrs["remark"] == f"pruned after epoch {t.user_attrs['epochs']}: not in the best 1/2 of the "
        "trials at this rung (successive halving)"
        for t in pruned
    )
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert complete and all(t.user_attrs["epochs"] == 4 and t.value == t.intermediate_values[4] for t in complete)


def test_divergence_is_a_poor_result_not_a_crash():
    spec = parse_spec(
        tiny_digits_spec(
            dataset="sine",
            metric="val_loss",
            max_epochs=5,
            fixed={"optimizer": "sgd_momentum", "batch_size": 16, "units": 64, "n_layers": 2},
            space={"lr": [5.0]},
        )
    )
    run_study(spec, n_trials=1)
    (t,) = _load().trials
    assert t.state == optuna.trial.TrialState.COMPLETE
    assert t.value == math.inf
    assert t.user_attrs["status"] == "diverged"
    assert t.user_attrs["remark"] == "diverged: non-finite loss in epoch 1"
    assert t.user_attrs["train_loss"] is None


def test_diverged_classifier_records_its_measured_accuracy():
    spec = parse_spec(
        tiny_digits_spec(
            fixed={"optimizer": "sgd_momentum", "batch_size": 16, "units": 64, "n_layers": 2, "activation": "elu"},
            space={"lr": [10.0]},
            max_epochs=3,
        )
    )
    run_study(spec, n_trials=1)
    (t,) = _load().trials
    assert t.user_attrs["status"] == "diverged"
    assert t.value == t.user_attrs["val_accuracy"] and t.value < 0.3


def _result(*accs, train=None, losses=None, diverged=False, stopped=False):
    losses = losses or [1.0 / (i + 1) for i in range(len(accs))]
    hist = [EpochStats(i + 1, 0.1, (train or accs)[i], losses[i], a, 1.0) for i, a in enumerate(accs)]
    return FitResult(
        history=hist, diverged=diverged, diverged_epoch=len(accs) if diverged else None, stopped_early=stopped
    )


@pytest.mark.parametrize(
    "result, expected",
    [
        (_result(0.5, 0.2131), "did not converge: validation accuracy 21.3%"),
        (_result(0.95, 0.96, train=[0.99, 0.999]), "overfitting: train 99.9% vs validation 96.0%"),
        (
            _result(0.9, 0.95, 0.96, losses=[0.3, 0.1, 0.2]),
            "overfitting: validation loss rose to 0.200 from its best 0.100 (train 96.0% vs validation 96.0%)",
        ),
        (
            _result(0.6, 0.7, 0.704, train=[0.5, 0.55, 0.569], losses=[0.9, 0.87, 1.03]),
            "unstable: validation loss rose to 1.030 (best 0.870) while training accuracy stayed at 56.9%",
        ),
        (_result(0.90, 0.95), "slow convergence: still +5.0 pp in the last epoch"),
        (_result(0.97, 0.972), "converged: validation accuracy 97.20%"),
        (_result(0.5, diverged=True), "diverged: non-finite loss in epoch 1"),
        (_result(0.5, 0.6, stopped=True), "pruned after epoch 2"),
    ],
)
def test_remarks(result, expected):
    assert remark(result, classification=True).startswith(expected)


@pytest.mark.parametrize(
    "pruner, reason",
    [
        (None, "below the median of earlier trials at that epoch"),
        (PrunerSpec(name="median"), "below the median of earlier trials at that epoch"),
        (
            PrunerSpec(name="successive_halving", reduction_factor=3),
            "not in the best 1/3 of the trials at this rung (successive halving)",
        ),
        (PrunerSpec(name="hyperband", reduction_factor=4), "not in the best 1/4 of its Hyperband bracket at this rung"),
    ],
)
def test_pruned_remark_names_the_pruners_reason(pruner, reason):
    assert (
        remark(_result(0.5, 0.6, stopped=True), classification=True, pruner=pruner) == f"pruned after epoch 2: {reason}"
    )
