"""Figures name what they show: the study's metric and 'trial' or 'epoch', not Optuna's generic labels."""

from __future__ import annotations

import optuna
import pytest

from autotune.plots import relabel


@pytest.mark.parametrize("kind, xlabel, ylabel", [
    ("optimization_history", "trial", "val_accuracy"),
    ("intermediate_values", "epoch", "val_accuracy after each epoch"),
])
def test_history_and_learning_curves_are_labelled_with_the_metric(kind, xlabel, ylabel):
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as vm

    study = optuna.create_study(direction="maximize")
    for i in range(3):
        trial = study.ask()
        trial.suggest_float("lr", 0.001, 0.1)
        for epoch in (1, 2):
            trial.report(0.5 + i / 10 + epoch / 100, epoch)
        study.tell(trial, 0.5 + i / 10)
    ax = getattr(vm, f"plot_{kind}")(study)
    relabel(ax, kind, "val_accuracy")
    assert (ax.get_xlabel(), ax.get_ylabel()) == (xlabel, ylabel)
    assert all(float(tick).is_integer() for tick in ax.xaxis.get_major_locator()())
    if kind == "optimization_history":
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["val_accuracy of a complete trial",
                                                                       "best val_accuracy so far"]
