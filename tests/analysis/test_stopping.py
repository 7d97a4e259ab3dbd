"""Stopping at the noise floor (autotune/analysis/stopping.py, `run --stop noise`): the rule on constructed numbers,
and real runs whose stopping point is fixed by construction."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from autotune.analysis.confirmation_runs import confirm_seeds
from autotune.analysis.stopping import decide, resolve, window_gain
from autotune.errors import OptionError
from autotune.spec.study import StopSpec, parse_spec
from tests.conftest import empty_study, invoke, stored_study, tiny_digits_spec

# --------------------------------------------------------------------------------------
# The rule on plain numbers (binary fractions, so every difference is exact)


def test_window_gain_is_the_best_of_the_last_p_against_the_best_before_them():
    assert window_gain([0.5, 0.75, 0.625, 0.875], patience=2, direction="maximize") == 0.125
    assert window_gain([0.5, 0.75, 0.625, 0.5], patience=2, direction="maximize") == -0.125
    assert window_gain([0.5, 0.25, 0.375, 0.125], patience=2, direction="minimize") == 0.125
    assert window_gain([0.5, 0.75, None, None], patience=2, direction="maximize") == -math.inf  # pruned: beat nothing


def test_window_gain_cannot_judge_p_trials_or_fewer_or_a_start_without_a_value():
    assert window_gain([0.5, 0.75], patience=2, direction="maximize") is None
    assert window_gain([], patience=1, direction="maximize") is None
    assert window_gain([None, 0.5, 0.75], patience=2, direction="maximize") is None


def test_decide_stops_when_the_gain_is_at_most_one_spread():
    values = [0.5, 0.75, 0.875]  # the last one beats the best before it by 0.125
    assert decide(values, patience=1, spread=0.125, direction="maximize")
    assert not decide(values, patience=1, spread=0.0625, direction="maximize")
    for unmeasured in (None, math.inf, math.nan):  # no spread (a seed diverged): the search goes on
        assert not decide(values, patience=1, spread=unmeasured, direction="maximize")


def test_decide_fires_first_where_the_rule_says_on_a_plateau():
    values = [0.25, 0.5, 0.75, 0.75, 0.8125, 0.75, 0.75, 0.75]
    # after 6: the last 3 hold 0.8125 against 0.75 before them (gain 0.0625 > 0.05); after 7 still (0.8125 is
    # among the last 3, 0.75 before); after 8 the last 3 hold 0.75 against 0.8125 before them
    fired = [n for n in range(1, len(values) + 1) if decide(values[:n], patience=3, spread=0.05, direction="maximize")]
    assert fired == [8]


def test_decide_never_fires_while_the_incumbent_keeps_improving_by_more_than_its_spread():
    values = [0.5 + 0.125 * i for i in range(12)]
    assert not any(
        decide(values[:n], patience=p, spread=0.0625, direction="maximize") for n in range(1, 13) for p in (1, 3, 5)
    )
    losses = [1.0 - 0.0625 * i for i in range(12)]
    assert not any(decide(losses[:n], patience=3, spread=0.03125, direction="minimize") for n in range(1, 13))


def test_resolve_takes_the_option_over_the_spec_block_and_checks_both():
    plain = parse_spec(tiny_digits_spec())
    block = parse_spec(tiny_digits_spec(stop={"patience": 5, "seeds": 4}))
    assert resolve(plain, None, None) is None
    assert resolve(plain, "noise", None) == StopSpec("noise", 20, 3)
    assert resolve(plain, "noise", 7) == StopSpec("noise", 7, 3)
    assert resolve(block, None, None) == StopSpec("noise", 5, 4) == resolve(block, "noise", None)
    assert resolve(block, None, 9) == StopSpec("noise", 9, 4)
    with pytest.raises(OptionError, match="^stop 'plateau' is not a stopping rule; allowed: noise$"):
        resolve(plain, "plateau", None)
    with pytest.raises(OptionError, match="^stop_patience must be an integer >= 1, got 0$"):
        resolve(block, None, 0)
    multi = parse_spec(tiny_digits_spec(objectives=["val_accuracy", "params"], pruner={"name": "none"}))
    with pytest.raises(
        OptionError,
        match=r"^stop noise: the rule compares trials by one objective, and study "
        r"'tiny-digits' has 2 \(val_accuracy, params\)$",
    ):
        resolve(multi, "noise", None)


# --------------------------------------------------------------------------------------
# Real runs. The data: four clusters far apart, so lr 0.03 classifies every validation example after
# 2 epochs on every trial seed (100%, the most there is) while lr 1e-5 stays near chance. Trial 0 is
# queued with lr 1e-5 and trial 1 with lr 0.03: no later trial can beat trial 1, and trial 1 beats
# trial 0 by far more than any spread, so where the rule fires follows from the rule alone.

POOR, GOOD = 1.0e-5, 0.03
RUN = ("run", "--study", "spec.yaml", "--stop", "noise", "-q")


@pytest.fixture
def queued(tmp_path, write_spec) -> str:
    rng = np.random.default_rng(0)
    y = np.arange(600) % 4
    x = (np.eye(4, 8)[y] * 8.0 + rng.normal(size=(600, 8))).astype(np.float32)
    np.savez(tmp_path / "sep.npz", x=x, y=y)
    path = write_spec(
        tiny_digits_spec(
            dataset={"type": "npz", "path": "sep.npz"},
            max_epochs=2,
            pruner={"name": "none"},
            space={"lr": [POOR, GOOD]},
            fixed={"optimizer": "adam", "batch_size": 64, "n_layers": 1, "units": 16},
        )
    )
    study = empty_study(path)
    study.enqueue_trial({"lr": POOR})
    study.enqueue_trial({"lr": GOOD})
    return path


def spread_runs() -> list[dict]:
    return [
        {
            "source_trial": t.user_attrs["source_trial"],
            "purpose": t.user_attrs["purpose"],
            "seed": t.user_attrs["run"]["seed"],
            "value": t.user_attrs["run"]["val_accuracy"],
        }
        for t in stored_study("tiny-digits:replays").trials
    ]


def test_the_rule_fires_at_the_first_trial_where_p_in_a_row_do_not_beat_the_best(queued):
    result = invoke(*RUN, "--trials", "12", "--stop-patience", "3")
    assert result.exit_code == 0, result.output
    study = stored_study()
    values = [t.value for t in study.trials]
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 5  # P + 2: judged after 4 (no), after 5 (yes)
    assert values[0] < 0.5 and values[1] == 1.0 and max(values[2:]) <= 1.0
    runs = spread_runs()  # the spread: trial 1, the incumbent since the rule could first be judged, measured once
    assert [(r["source_trial"], r["purpose"]) for r in runs] == [(1, "noise floor")] * 3
    assert [r["seed"] for r in runs] == confirm_seeds(7, 3)
    spread = statistics.stdev(r["value"] for r in runs)
    assert values[1] - values[0] > spread  # after 4 trials the last 3 (1, 2, 3) hold a real gain: no stop
    best_in_window = max((2, 3, 4), key=lambda n: (values[n], -n))
    assert study.user_attrs["stopped"] == {
        "rule": {"rule": "noise", "patience": 3, "seeds": 3},
        "metric": "val_accuracy",
        "direction": "maximize",
        "target": 12,
        "finished": 5,
        "window": [2, 3, 4],
        "best_before": {"trial": 1, "value": 1.0},
        "best_in_window": {"trial": best_in_window, "value": values[best_in_window]},
        "incumbent": 1,
        "spread": spread,
        "seed_list": confirm_seeds(7, 3),
        "spread_values": [r["value"] for r in runs],
    }
    assert (
        f"Stopped at the noise floor: 3 finished trials in a row (trials 2 to 4) within one seed-std "
        f"({spread * 100:.2f} pp, measured over 3 seeds of trial 1) of the best before them (100.00%, trial 1); "
        "7 trial(s) of the target of 12 not run."
    ) in result.stdout.splitlines()
    # the report says it first, in either language
    from autotune.analysis.stopping import line

    for lang in ("en", "zh"):
        out = invoke("report", "--study", "tiny-digits", "--lang", lang, "--out", f"rep-{lang}", "--format", "md")
        assert out.exit_code == 0, out.output
        md = Path(f"rep-{lang}/report.md").read_text()
        said = line(study.user_attrs["stopped"], finished=5, target=12, lang=lang)
        assert md.split("\n> ", 1)[1].startswith(said)  # the first note
    assert "7 trial(s) of the target of 12 not run" in Path("rep-en/report.md").read_text()
    assert "目标 12 个试验中有 7 个未运行" in Path("rep-zh/report.md").read_text()


def test_the_rule_does_not_fire_while_the_best_beats_the_best_before_by_more_than_the_spread(queued):
    result = invoke(*RUN, "--trials", "3", "--stop-patience", "1")
    assert result.exit_code == 0, result.output
    study = stored_study()
    # judged once, after 2 trials: the last one (trial 1, 100%) beats trial 0 by more than trial 1's spread
    assert len(study.trials) == 3 and "stopped" not in study.user_attrs
    assert [r["source_trial"] for r in spread_runs()] == [1, 1, 1]
    assert "noise floor" not in result.stdout
    assert study.user_attrs["stop_rule"] == {"rule": "noise", "patience": 1, "seeds": 3}


def test_a_stopped_study_stays_stopped_under_its_rule_and_searches_on_without_it(queued):
    assert invoke(*RUN, "--trials", "12", "--stop-patience", "3").exit_code == 0
    again = json.loads(invoke(*RUN, "--trials", "12", "--stop-patience", "3", "--json").stdout)
    assert (again["finished_before"], again["finished"]) == (5, 5)
    assert again["stopped"] == stored_study().user_attrs["stopped"]
    # another patience is another rule, judged afresh: the last 4 hold trial 1 until 6 trials have finished
    wider = json.loads(invoke(*RUN, "--trials", "12", "--stop-patience", "4", "--json").stdout)
    assert (wider["finished"], wider["stopped"]["window"], wider["stopped"]["rule"]["patience"]) == (6, [2, 3, 4, 5], 4)
    assert len(spread_runs()) == 3  # trial 1's spread runs were read back, never trained again
    plain = invoke("run", "--study", "spec.yaml", "--trials", "8", "-q")  # no rule: search to the target
    assert plain.exit_code == 0, plain.output
    study = stored_study()
    assert len(study.trials) == 8 and study.user_attrs["stopped"] is None and study.user_attrs["stop_rule"] is None
    assert "noise floor" not in plain.stdout


def test_several_workers_judge_the_same_history_and_measure_the_spread_once(queued):
    result = invoke(*RUN, "--trials", "12", "--stop-patience", "3", "--workers", "2")
    assert result.exit_code == 0, result.output
    study = stored_study()
    record = study.user_attrs["stopped"]
    # which trials had finished when a worker judged depends on timing; that the last 3 of them beat a best of 100%
    # before them by nothing does not (no trial can beat 100%)
    assert record["finished"] >= 5 and record["best_before"]["value"] == 1.0 and record["spread"] is not None
    assert len(record["window"]) == 3 and min(record["window"]) >= 2
    # after the stop no trial was claimed: at most the other worker's running trial finished
    assert record["finished"] <= len(study.trials) <= record["finished"] + 1
    assert {t.state.name for t in study.trials} == {"COMPLETE"}
    # measured under the lock, so never trained twice: every lr 0.03 trial has one configuration, and its 3 runs
    # were trained once, for whichever 100% trial was the incumbent first (trial 2 if it finished before trial 1)
    runs = spread_runs()
    assert [r["seed"] for r in runs] == confirm_seeds(7, 3) and len({r["source_trial"] for r in runs}) == 1
    assert study.trials[runs[0]["source_trial"]].params == {"lr": GOOD}
    assert (
        "trial(s) of the target of 12 not run." in result.stdout
        and f"{len(study.trials)} of 12 finished trials" in result.stdout
    )


def test_a_spec_that_confirms_confirms_after_the_stop_reusing_the_spread_runs(queued, write_spec):
    import yaml

    data = yaml.safe_load(Path(queued).read_text())  # the same search (stop and confirm are not in the fingerprint)
    path = write_spec({**data, "stop": {"patience": 3}, "confirm": {"top": 1, "seeds": 3}}, name="both.yaml")
    out = json.loads(invoke("run", "--study", path, "--trials", "12", "-q", "--json").stdout)
    assert out["finished"] == 5 and out["stopped"]["rule"] == {"rule": "noise", "patience": 3, "seeds": 3}
    # the confirmation's seeds are the spread's: trial 1's three runs are read back, none trained
    assert (out["confirmation"]["best_trial"], out["confirmation"]["seed_list"]) == (1, confirm_seeds(7, 3))
    assert out["confirmation"]["runs"] == {"trained": 0, "reused": 3} and len(spread_runs()) == 3
