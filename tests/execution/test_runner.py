"""Running a study in this process: bad arguments refused before anything is written, reruns top up."""

from __future__ import annotations

import optuna
import pytest

from autotune.errors import OptionError
from autotune.execution.runner import run_study
from autotune.spec.study import parse_spec
from tests.conftest import invoke, tiny_digits_spec


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_trials": 0}, "n_trials must be >= 1, got 0"),
        ({"workers": 0}, "workers must be 'auto' or a whole number >= 1, got 0"),
        ({"threads": 0}, "threads must be >= 1, got 0"),
        ({"pruner": "sometimes"}, "unknown pruner 'sometimes'; allowed: median"),
        ({"stop": "plateau"}, "stop 'plateau' is not a stopping rule; allowed: noise"),
        ({"stop": "noise", "stop_patience": 0}, "stop_patience must be an integer >= 1, got 0"),
        (
            {"stop_patience": 5},
            "stop_patience 5 needs a stopping rule: add stop noise, or a stop: block to spec 'tiny-digits'",
        ),
    ],
)
def test_bad_arguments_are_refused_before_the_database_exists(tmp_path, kwargs, message):
    url = f"sqlite:///{tmp_path / 'never.db'}"
    with pytest.raises(OptionError, match=message):
        run_study(parse_spec(tiny_digits_spec()), storage=url, **kwargs)
    assert not (tmp_path / "never.db").exists()


def test_a_rerun_tops_the_study_up_to_the_new_target(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    spec = parse_spec(tiny_digits_spec(max_epochs=1, pruner={"name": "none"}))
    first = run_study(spec, n_trials=2, storage=url)
    second = run_study(spec, n_trials=3, storage=url)
    assert (first.finished_before, first.finished) == (0, 2)
    assert (second.finished_before, second.finished, second.target) == (2, 3, 3)
    study = optuna.load_study(study_name="tiny-digits", storage=url)
    assert [t.number for t in study.trials] == [0, 1, 2] and study.user_attrs["target_trials"] == 3
    assert not {"stop_rule", "stopped"} & set(study.user_attrs)  # no stopping rule: nothing about one is stored
    seeds = [t.user_attrs["seed"] for t in study.trials]
    assert len(set(seeds)) == 3  # every trial has its own seed, the rerun's included


def test_a_run_with_another_step_than_the_study_s_trials_says_so(write_spec):
    """The step is how a trial computes, so a study may hold both; a run that changes it says so, once."""
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}))
    first = invoke("run", "--study", path, "--trials", "2", "--step", "fused")
    assert first.exit_code == 0 and "step:" not in first.stderr  # every trial so far agrees
    plain = invoke("run", "--study", path, "--trials", "3")
    assert plain.exit_code == 0 and plain.stderr.count("step:") == 1
    assert (
        "step: this run trains with the plain step, the study holds 2 earlier trial(s) with the fused step "
        "(--step fused trains as they did); each trial replays in its own"
    ) in plain.stderr
    study = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")
    assert [t.user_attrs["step"] for t in study.trials] == ["fused", "fused", "plain"]
    fused = invoke("run", "--study", path, "--trials", "4", "--step", "fused")
    assert "the study holds 1 earlier trial(s) with the plain step (--step plain trains" in fused.stderr
