"""run --warm-start: a new study seeded with an old study's finished trials that fit its space."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

import autotune
from tests.conftest import finished_study, invoke, stored_study, tiny_digits_spec

OLD = tiny_digits_spec(pruner={"name": "none"}, trials=6)


@pytest.fixture(scope="module")
def old_db(tmp_path_factory) -> Path:
    """The finished study 'tiny-digits' (6 complete trials, no pruning), made once for the module."""
    return finished_study(tmp_path_factory.mktemp("old"), OLD, spec_name="old.yaml") / "autotune.db"


@pytest.fixture
def old(old_db, tmp_path):
    shutil.copy(old_db, tmp_path / "autotune.db")
    return stored_study()


def new_spec(tmp_path, **changes) -> str:
    data = {**OLD, **changes, "space": {**OLD["space"], **changes.get("space", {})}}
    (tmp_path / "new.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return "new.yaml"


def test_a_new_pruner_and_a_narrower_range_take_the_trials_that_fit(old, tmp_path):
    spec = new_spec(
        tmp_path,
        pruner={"name": "median", "n_startup_trials": 2, "n_warmup_steps": 0},
        space={"lr": {"low": 5.0e-3, "high": 3.0e-2, "log": True}},
    )
    fits = [t for t in old.trials if t.params["lr"] >= 5.0e-3]
    assert 0 < len(fits) < len(old.trials)  # the narrower range leaves some out
    result = invoke(
        "run",
        "--study",
        spec,
        "--study-name",
        "new",
        "--warm-start",
        "tiny-digits",
        "--trials",
        str(len(fits) + 1),
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"Warm start from study 'tiny-digits' (sqlite:///autotune.db): {len(fits)} of its 6 trial(s) fit this spec, "
        "copied.",
        f"  {6 - len(fits)} not taken: lr outside the new space ([0.005, 0.03], log)",
    ]
    new = stored_study("new")
    copies, searched = new.trials[: len(fits)], new.trials[len(fits) :]
    for copy, source in zip(copies, fits):
        assert (copy.state, copy.values, copy.params) == (source.state, source.values, source.params)
        assert copy.intermediate_values == source.intermediate_values
        assert (copy.datetime_start, copy.datetime_complete) == (source.datetime_start, source.datetime_complete)
        assert copy.user_attrs == {
            **source.user_attrs,
            "warm_start": {"study": "tiny-digits", "storage": "sqlite:///autotune.db", "trial": source.number},
        }
        assert copy.distributions["lr"].low == 5.0e-3  # the new space's distribution
    assert len(searched) == 1 and "warm_start" not in searched[0].user_attrs
    # the same command again copies nothing twice
    again = invoke(
        "run",
        "--study",
        spec,
        "--study-name",
        "new",
        "--warm-start",
        "tiny-digits",
        "--trials",
        str(len(fits) + 1),
        "--json",
    )
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["warm_start"] == {
        "study": "tiny-digits",
        "storage": "sqlite:///autotune.db",
        "trials": 6,
        "taken": len(fits),
        "added": 0,
        "copied_before": len(fits),
        "not_taken": [{"reason": "lr outside the new space ([0.005, 0.03], log)", "trials": 6 - len(fits)}],
        "unstated": [],
    }
    assert len(stored_study("new").trials) == len(fits) + 1


def test_a_shallower_space_with_a_new_parameter(old, tmp_path):
    """n_layers narrowed to 1 leaves the two-layer trials out; dropout, now searched, takes each trial's 0.0."""
    spec = autotune.load_spec(
        new_spec(tmp_path, space={"n_layers": {"low": 1, "high": 1}, "dropout": {"low": 0.0, "high": 0.5}})
    )
    fits = [t for t in old.trials if t.params["n_layers"] == 1]
    assert 0 < len(fits) < len(old.trials)
    summary = autotune.run_study(
        spec, n_trials=len(fits), study_name="new", warm_start="tiny-digits@sqlite:///autotune.db"
    )
    assert summary.warm_start["taken"] == len(fits) and summary.finished_before == len(fits)
    assert summary.warm_start["not_taken"] == [
        {"reason": "n_layers outside the new space ([1, 1])", "trials": 6 - len(fits)}
    ]
    for copy, source in zip(stored_study("new").trials, fits):
        assert copy.params == {**source.params, "dropout": 0.0}


def test_fixed_values_that_changed_are_a_reason(old, tmp_path):
    spec = autotune.load_spec(new_spec(tmp_path, fixed={"optimizer": "sgd"}))
    summary = autotune.run_study(spec, n_trials=1, study_name="new", warm_start="tiny-digits")
    assert summary.warm_start["taken"] == 0
    assert summary.warm_start["not_taken"] == [
        {"reason": "optimizer 'adam', where the new spec has it fixed at sgd", "trials": 6}
    ]


@pytest.mark.slow
def test_a_warm_start_with_several_workers_copies_once_and_the_workers_fill_the_rest(old, tmp_path):
    # the copies are made by `run` before its workers start; the workers search only the remaining slots
    spec = new_spec(tmp_path, pruner={"name": "median", "n_startup_trials": 2, "n_warmup_steps": 0})
    result = invoke(
        "run",
        "--study",
        spec,
        "--study-name",
        "new",
        "--warm-start",
        "tiny-digits",
        "--workers",
        "2",
        "--trials",
        "9",
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Warm start from study 'tiny-digits' (sqlite:///autotune.db): 6 of its 6 trial(s) fit this spec, copied."
    )
    new = stored_study("new")
    finished = [t for t in new.trials if t.state.name in ("COMPLETE", "PRUNED")]
    copied = [t for t in new.trials if "warm_start" in t.user_attrs]
    assert len(finished) == 9 and len(copied) == 6
    assert sorted(t.user_attrs["warm_start"]["trial"] for t in copied) == list(range(6))
    searched = [t for t in finished if "warm_start" not in t.user_attrs]
    assert len(searched) == 3
    assert all(not t.user_attrs["worker"].endswith(f":{os.getpid()}") for t in searched)  # run by the workers


HAND = """编号,学习率,网络结构,验证集准确率(%)
1,0.01,"[64,32,10]",91.5
2,0.02,"[64,48,16,10]",88.0
"""


def test_hand_rows_are_taken_without_a_default_they_never_stated_as_import_does(tmp_path, monkeypatch):
    """#31, 6: a warm start dropped every hand row ("weight_decay outside the new space"): the table gives no
    weight decay, and autotune's own default 0 lies outside the new log range. A default the trial did not state
    never keeps it out (import's rule); a value it did state still does. The plan is said before any training."""
    monkeypatch.setenv("AUTOTUNE_PROGRESS", "lines")
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(OLD, sort_keys=False))
    (tmp_path / "hand.csv").write_text(HAND, encoding="utf-8")
    assert invoke("import", "--study", "old.yaml", "--table", "hand.csv").exit_code == 0
    assert invoke("run", "--study", "old.yaml", "--trials", "4", "-q").exit_code == 0  # 2 hand rows, 2 searched
    spec = new_spec(
        tmp_path,
        space={
            "weight_decay": {"low": 1.0e-5, "high": 1.0e-2, "log": True},
            "lr": {"low": 1.0e-3, "high": 1.5e-2, "log": True},
        },
    )
    result = invoke("run", "--study", spec, "--study-name", "new", "--warm-start", "tiny-digits", "--trials", "5")
    assert result.exit_code == 0, result.output
    old = stored_study()
    stated_out = [t for t in old.trials if t.params["lr"] > 1.5e-2]  # the lr they stated is outside the new range
    taken = [t for t in old.trials if t not in stated_out]
    assert [t.user_attrs.get("source") for t in taken].count("hand") == 1  # hand row 1 (lr 0.01) fits
    said = [
        f"Warm start from study 'tiny-digits' (sqlite:///autotune.db): {len(taken)} of its 4 trial(s) fit this "
        "spec, copied.",
        f"  {len(taken)} taken without weight_decay 0 ([1e-05, 0.01], log): a default the trial did not state, "
        "outside this spec's space; kept in its 'config' attribute, not given to the sampler",
        f"  {len(stated_out)} not taken: lr outside the new space ([0.001, 0.015], log)",
    ]
    err = result.stderr.splitlines()
    assert err[:3] == said  # first, before any trial trains
    assert not any(line.startswith("[") for line in err[:3])
    assert result.stdout.splitlines()[:3] == said  # and again in the summary
    new = stored_study("new")
    copies = new.trials[: len(taken)]
    assert [c.user_attrs["warm_start"]["trial"] for c in copies] == [t.number for t in taken]
    assert all("weight_decay" not in c.params and c.user_attrs["config"]["weight_decay"] == 0 for c in copies)
