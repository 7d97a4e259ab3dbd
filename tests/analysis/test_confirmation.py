"""Confirmation (autotune/analysis/confirmation.py, `autotune confirm`): the statistics on fixed numbers, and on a
real digits study against the runs read back from its replay store."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import statistics
import sys
from pathlib import Path

import optuna
import pytest
import yaml

from autotune.analysis.confirmation import lines, stored, table
from autotune.analysis.confirmation_runs import confirm_seeds
from autotune.analysis.seed_ranking import rank
from autotune.analysis.stats import holm
from autotune.search.goals import the_best
from tests.conftest import REPO, finished_study, invoke, started, stored_study, tiny_digits_spec, wait_for


def t975_df2() -> float:
    """Student's t(0.975) with 2 degrees of freedom from its closed-form CDF, F(t) = 1/2 + t / (2 sqrt(2 + t^2))."""
    return 0.95 * math.sqrt(2 / (1 - 0.95**2))


def paired_p_df2(diffs: list[float]) -> float:
    """The two-sided paired t-test's p-value for three differences, by hand."""
    t = statistics.fmean(diffs) / (statistics.stdev(diffs) / math.sqrt(3))
    return 2 * (0.5 - abs(t) / (2 * math.sqrt(2 + t * t)))


# --------------------------------------------------------------------------------------
# The statistics on fixed numbers

TOP = [0.90, 0.92, 0.94]
NOISY = [0.899, 0.89, 0.96]  # differences from TOP change sign: no test tells it apart
LOW = [0.80, 0.81, 0.84]  # about 10 pp below TOP on every seed
SHIFTED = [v - 0.05 for v in TOP]  # exactly 5 pp below on every seed (up to rounding): no spread, no t-test
DIVERGED = [0.95, None, 0.97]


def test_rank_orders_by_mean_and_tests_each_against_the_top():
    out = rank(
        [(1, 0.97, NOISY), (2, 0.95, TOP), (3, 0.99, LOW), (4, 0.96, SHIFTED), (5, 0.98, DIVERGED)],
        direction="maximize",
    )
    assert [r["trial"] for r in out["ranking"]] == [2, 1, 4, 3, 5]
    assert out["best_trial"] == 2
    assert (out["indistinguishable"], out["worse"], out["diverged"]) == ([1, 4], [3], [5])
    by = {r["trial"]: r for r in out["ranking"]}
    assert [by[t]["versus_top"] for t in (2, 1, 4, 3, 5)] == [
        "top",
        "indistinguishable",
        "same difference on every seed",
        "worse",
        "diverged",
    ]
    low = by[3]
    assert low["p_value"] == pytest.approx(paired_p_df2([a - b for a, b in zip(TOP, LOW)]), rel=1e-6)
    assert low["p_holm"] == pytest.approx(4 * low["p_value"])  # the smallest of 4 comparisons: times 4
    assert low["p_holm"] <= 0.05 < by[1]["p_holm"] == 1.0
    assert by[4]["p_value"] is None and by[5]["mean"] is None and by[5]["ci95"] is None
    top = by[2]
    assert top["mean"] == statistics.fmean(TOP) and top["std"] == statistics.stdev(TOP)
    half = t975_df2() * statistics.stdev(TOP) / math.sqrt(3)
    assert top["ci95"] == pytest.approx([statistics.fmean(TOP) - half, statistics.fmean(TOP) + half], rel=1e-12)


def test_rank_minimizes_a_loss_and_runs_no_test_below_three_seeds():
    out = rank([(0, 0.30, [0.31, 0.35]), (1, 0.20, [0.40, 0.41]), (2, 0.25, [0.20, 0.22])], direction="minimize")
    assert [r["trial"] for r in out["ranking"]] == [2, 0, 1]
    assert [r["versus_top"] for r in out["ranking"]] == ["top", "too few seeds", "too few seeds"]
    assert out["indistinguishable"] == [0, 1] and out["worse"] == []
    assert all(r["p_value"] is None for r in out["ranking"])
    half = math.tan(0.475 * math.pi) * statistics.stdev([0.20, 0.22]) / math.sqrt(2)  # t(0.975, 1): Cauchy's
    assert out["ranking"][0]["ci95"] == pytest.approx([0.21 - half, 0.21 + half])


def test_holm_steps_down_and_never_lowers_a_later_p_value():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.02, 0.5], m=4) == pytest.approx([0.08, 1.0])  # comparisons without a test still count


def test_confirmation_seeds_are_shared_grow_as_a_prefix_and_are_no_trial_seed():
    from autotune.base.seeding import trial_seed

    assert confirm_seeds(7, 5)[:3] == confirm_seeds(7, 3)
    assert len(set(confirm_seeds(7, 5))) == 5
    assert not set(confirm_seeds(7, 5)) & {trial_seed(7, n) for n in range(1000)}


# --------------------------------------------------------------------------------------
# A real study: conftest's study_path (3 complete digits trials, 3 epochs each), made once for the module


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    return finished_study(
        tmp_path_factory.mktemp("finished"),
        tiny_digits_spec(pruner={"name": "none"}, fixed={"optimizer": "adam", "dropout": 0.1}),
        "--trials",
        "3",
    )


@pytest.fixture
def study_path(finished, tmp_path) -> str:
    """This test's own copy of the finished study in ./autotune.db, and its spec file."""
    shutil.copy(finished / "autotune.db", tmp_path / "autotune.db")
    shutil.copy(finished / "spec.yaml", tmp_path / "spec.yaml")
    return str(tmp_path / "spec.yaml")


def _confirm(*args: str) -> dict:
    result = invoke("confirm", "--study", "tiny-digits", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _store_runs() -> list[optuna.trial.FrozenTrial]:
    return stored_study("tiny-digits:replays").trials


def test_means_are_those_of_the_stored_runs_read_back_from_the_database(study_path):
    out = _confirm("--top", "3", "--seeds", "3")
    study = stored_study()
    assert stored(study) == {k: v for k, v in out.items() if k not in ("lines", "runs", "chosen_best", "document")}
    assert out["chosen_best"] == the_best(study).number and out["document"] is None  # no --docx
    record = stored(study)  # #31: the verdict names the study, the seeds and the budget
    assert lines(record)[0] == (
        f"Confirmed the top 3 of 3 complete trials of study 'tiny-digits' (by their single-seed "
        f"val_accuracy) over the same 3 seeds ({', '.join(map(str, record['seed_list']))}), "
        "none of them a seed the search used, 3 epochs per run as in the search."
    )
    assert out["seed_list"] == confirm_seeds(7, 3) and out["runs"] == {"trained": 9, "reused": 0}
    runs = {(t.user_attrs["source_trial"], t.user_attrs["run"]["seed"]): t.user_attrs["run"] for t in _store_runs()}
    assert len(runs) == 9 and {t.user_attrs["purpose"] for t in _store_runs()} == {"confirmation"}
    assert sorted(r["trial"] for r in out["ranking"]) == [0, 1, 2]
    for row in out["ranking"]:
        values = [runs[(row["trial"], seed)]["val_accuracy"] for seed in out["seed_list"]]
        assert row["values"] == values
        assert row["mean"] == statistics.fmean(values) and row["std"] == statistics.stdev(values)
        half = t975_df2() * statistics.stdev(values) / math.sqrt(3)
        assert row["ci95"] == pytest.approx([row["mean"] - half, row["mean"] + half], rel=1e-12)
        assert row["stored_value"] == study.trials[row["trial"]].value
    means = [r["mean"] for r in out["ranking"]]
    assert means == sorted(means, reverse=True) and out["best_trial"] == out["ranking"][0]["trial"]
    assert out["single_seed_best"] == study.best_trial.number
    single = next(r for r in out["ranking"] if r["trial"] == study.best_trial.number)
    assert out["overstatement"]["by"] == study.best_value - single["mean"]
    assert out["lines"] == lines(out)
    # every confirmation run is reproducible on its own, bit for bit, from its configuration and first seed
    import autotune
    from autotune.search.configs import config_from_params
    from autotune.storage.stored import stored_spec

    spec = stored_spec(study)
    top = out["ranking"][0]
    again = autotune.replay_config(
        spec, config_from_params(spec, study.trials[top["trial"]].params), seeds=3, first_seed=out["seed_list"][0]
    )
    assert again.values("val_accuracy") == top["values"]


def test_a_second_confirmation_trains_nothing_and_more_seeds_train_only_the_new_ones(study_path):
    first = _confirm("--top", "2", "--seeds", "2")
    assert first["runs"] == {"trained": 4, "reused": 0} and len(_store_runs()) == 4
    again = _confirm("--top", "2", "--seeds", "2")
    assert again["runs"] == {"trained": 0, "reused": 4} and len(_store_runs()) == 4
    assert again["ranking"] == first["ranking"]
    more = _confirm("--top", "3", "--seeds", "3")  # one new seed for the first two, all three for the third
    assert more["runs"] == {"trained": 5, "reused": 4} and len(_store_runs()) == 9


def test_a_seed_batched_confirmation_equals_its_own_replay_and_is_kept_apart(study_path):
    import autotune
    from autotune.search.configs import config_from_params
    from autotune.storage.stored import stored_spec

    out = _confirm("--top", "2", "--seeds", "3", "--batch-seeds")
    assert out["runs"] == {"trained": 6, "reused": 0} and out["batched"] is True
    assert {tuple(t.user_attrs["run"]["batch"]) for t in _store_runs()} == {tuple(out["seed_list"])}
    assert out["lines"][1] == (
        "Each trial's 3 seeds were trained at once, as one batched model: each seed kept its own initialisation, "
        "data order and augmentation, and the dropout masks were drawn for the batch as a whole."
    )
    study = stored_study()
    spec = stored_spec(study)
    for row in out["ranking"]:  # each trial's batch, trained again from its configuration: the same to the bit
        config = config_from_params(spec, study.trials[row["trial"]].params)
        again = autotune.replay_config(
            spec.__class__(**{**spec.__dict__, "batch_seeds": True}), config, seeds=3, first_seed=out["seed_list"][0]
        )
        assert again.values("val_accuracy") == row["values"] and again.runs[0].batch == out["seed_list"]
    assert _confirm("--top", "2", "--seeds", "3", "--batch-seeds")["runs"] == {"trained": 0, "reused": 6}
    alone = _confirm("--top", "2", "--seeds", "3", "--seeds-one-by-one")  # another protocol: trained apart
    assert alone["runs"] == {"trained": 6, "reused": 0} and alone["batched"] is False and len(_store_runs()) == 12
    assert "Each trial's" not in " ".join(alone["lines"])
    values = {r["trial"]: r["values"] for r in out["ranking"]}
    assert all(values[r["trial"]] != r["values"] for r in alone["ranking"])


def test_fewer_complete_trials_than_top_confirms_those_and_says_so(study_path):
    result = invoke("confirm", "--study", "tiny-digits", "--top", "5", "--seeds", "2")
    assert result.exit_code == 0, result.output
    assert (
        "Note: study 'tiny-digits' has 3 complete trial(s), fewer than the 5 asked for: confirming those 3."
        in result.stdout
    )
    assert "over the same 2 seeds" in result.stdout
    assert "Over 2 seeds no paired test is run (it needs at least 3)" in result.stdout
    assert "(too few seeds to tell)" in result.stdout and "p=" not in result.stdout
    assert len(stored(stored_study())["ranking"]) == 3


def test_the_text_states_its_support(study_path):
    result = invoke("confirm", "--study", "tiny-digits", "--top", "3", "--seeds", "3")
    assert result.exit_code == 0, result.output
    record = stored(stored_study())
    for line in lines(record):
        assert line in result.stdout
    text = result.stdout
    assert "| rank | trial | search value (1 seed) | mean ± std (3 seeds) | 95% interval |" in text
    assert "over 3 seeds" in text and "over 3 fresh seeds" in text
    assert "9 run(s) trained, 0 read back from the replay store" in text
    single = record["single_seed_best"]
    assert f"The single-seed best, trial {single}, " in text


def test_no_interval_passes_100_percent_and_a_zero_width_one_is_not_used_as_evidence(study_path):
    """Two seeds of an accuracy (a count) can agree exactly, and a t-interval over few seeds can pass 100%: neither
    may reach the text as a claim. ``record`` is rewritten so the test does not rest on what real seeds give."""
    assert invoke("confirm", "--study", "tiny-digits", "--top", "2", "--seeds", "2").exit_code == 0
    record = stored(stored_study())
    over = dict(record["overstatement"], stored_value=0.95, mean=0.93, by=0.02, ci95=[0.93, 0.93])
    top = dict(record["ranking"][0], mean=0.98, std=0.03, ci95=[0.71, 1.25])
    same = dict(record, overstatement=over, ranking=[top, *record["ranking"][1:]])
    said = lines(same)
    trial = over["trial"]
    assert said[-1] == (
        f"The single-seed best, trial {trial}, overstated itself by 2.00 pp: its search value 95.00% against its "
        "mean 93.00% over 2 fresh seeds, which all gave that value: no spread to judge the difference by."
    )
    assert not any("[93.00%, 93.00%]" in line for line in said)
    assert "[71.00%, 100.00%]" in table(same) and "125.00%" not in table(same) + "".join(said)
    spread = dict(same, overstatement=dict(over, ci95=[0.92, 0.94]))
    assert lines(spread)[-1].endswith("(outside that mean's 95% interval [92.00%, 94.00%]).")


def test_a_multi_objective_study_is_refused(write_spec):
    path = write_spec(
        tiny_digits_spec(
            objectives=["val_accuracy", {"metric": "train_seconds", "direction": "minimize"}], pruner={"name": "none"}
        )
    )
    assert invoke("run", "--study", path, "--trials", "2", "-q").exit_code == 0
    result = invoke("confirm", "--study", "tiny-digits")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: confirm ranks trials by one objective, and study 'tiny-digits' has 2 "
        "(val_accuracy, train_seconds); replay a Pareto trial over seeds with "
        "`autotune replay --trial N --seeds K` instead"
    )
    assert "tiny-digits:replays" not in [s.study_name for s in optuna.get_all_study_summaries("sqlite:///autotune.db")]


# --------------------------------------------------------------------------------------
# Export follows the confirmation


def _record_with(record: dict, top: int, single: int, versus: str, *, equal_means: bool) -> dict:
    """``record`` rewritten so that trial ``top`` leads its ranking and the single-seed best ``single`` follows with
    ``versus`` (made here, so a test does not rest on which trial three real seeds happen to favour)."""
    rows = {r["trial"]: dict(r) for r in record["ranking"]}
    rows[top]["versus_top"], rows[top]["p_value"], rows[top]["p_holm"] = "top", None, None
    rows[single]["versus_top"] = versus
    rows[single]["p_value"], rows[single]["p_holm"] = (0.001, 0.002) if versus == "worse" else (None, None)
    if equal_means:
        rows[single]["mean"], rows[single]["values"] = rows[top]["mean"], list(rows[top]["values"])
    ranking = [rows[top], rows[single]] + [r for n, r in rows.items() if n not in (top, single)]
    return dict(record, best_trial=top, single_seed_best=single, ranking=ranking)


def test_export_takes_the_confirmed_best_only_where_the_single_seed_best_was_measured_worse(study_path):
    _confirm("--top", "3", "--seeds", "2")
    study = stored_study()
    record = stored(study)
    single = study.best_trial.number
    exported = json.loads(invoke("export", "--study", "tiny-digits", "--no-retrain", "--out", "e1", "--json").stdout)
    assert exported["best"]["trial"] == the_best(study).number
    other = next(t.number for t in study.trials if t.number != single)
    study.set_user_attr("confirmation", _record_with(record, other, single, "worse", equal_means=False))
    text = invoke("export", "--study", "tiny-digits", "--no-retrain", "--out", "e2").stdout.splitlines()
    mean = next(r["mean"] for r in record["ranking"] if r["trial"] == other)
    assert text[0].startswith(
        f"Trial {other} (confirmed best: the single-seed best, trial {single}, measured worse "
        "over 2 seeds among the top 3 trials): "
    )
    assert text[1] == (
        f"The confirmed best, trial {other} (mean val_accuracy {mean:.2%} over 2 seeds), is exported "
        f"instead of the single-seed best, trial {single} ({study.best_value:.2%} on "
        f"one seed); --trial {single} exports that one."
    )
    assert len(text) == 2
    best_yaml = yaml.safe_load(Path("e2/best.yaml").read_text())
    assert best_yaml["trial"] == other and best_yaml["confirmed"]["single_seed_best"] == single
    replay = json.loads(invoke("replay", "--study", "tiny-digits", "--trial", "best", "--json").stdout)
    assert replay["label"] == f"trial {other}"  # replay's 'best' is export's
    chosen = invoke(
        "export", "--study", "tiny-digits", "--no-retrain", "--out", "e3", "--trial", str(single)
    ).stdout.splitlines()
    assert chosen[0].startswith(f"Trial {single} (--trial {single}): ")
    assert len(chosen) == 1


@pytest.mark.parametrize("versus", ["indistinguishable", "same difference on every seed", "too few seeds"])
def test_a_tie_keeps_the_single_seed_best_in_every_command_and_is_called_a_tie(study_path, versus):
    """Trials 13 and 15 of the new user's mlp-digits both averaged 97.56% over 3 seeds, yet 'Trial 13 has the best
    mean' and export switched to it: a mean that no test tells apart is a tie, and a tie keeps the search's best."""
    _confirm("--top", "3", "--seeds", "2")
    study = stored_study()
    single = study.best_trial.number
    other = next(t.number for t in study.trials if t.number != single)
    tied = _record_with(stored(study), other, single, versus, equal_means=versus != "indistinguishable")
    study.set_user_attr("confirmation", tied)
    assert the_best(study).number == single and the_best(study).basis == "tie"
    text = invoke("export", "--study", "tiny-digits", "--no-retrain", "--out", "e").stdout.splitlines()
    assert text[0].startswith(
        f"Trial {single} (best val_accuracy of autotune's trials; the confirmation over 2 seeds "
        f"found no measurable difference from trial {other}, so it is kept): "
    )
    assert text[1] == (
        f"Trial {other} had the best mean val_accuracy over 2 seeds, but the confirmation measured no "
        f"difference from the single-seed best, trial {single}: a tie, so the single-seed best is "
        f"exported; --trial {other} exports the other."
    )
    replay = json.loads(invoke("replay", "--study", "tiny-digits", "--trial", "best", "--json").stdout)
    assert replay["label"] == f"trial {single}"
    said = lines(tied)
    assert (
        f"Trial {other} and the single-seed best, trial {single}, are not measurably different over 2 seeds: a "
        f"tie, so trial {single} stays the best (export, replay --trial best, ablate and sweep use it); the best "
        "changes only where a confirmation measures the single-seed best worse."
    ) in said
    if versus != "indistinguishable":  # equal means: neither "has the best mean"
        assert not any("has the best mean" in line for line in said)
        assert any(
            line.startswith(f"Trials {other} and {single} (the single-seed best) have the same mean over 2 seeds (")
            for line in said
        )


def test_export_notes_trials_added_after_the_confirmation(study_path):
    _confirm("--top", "2", "--seeds", "2")
    assert invoke("run", "--study", study_path, "--trials", "4", "-q").exit_code == 0
    result = invoke("export", "--study", "tiny-digits", "--no-retrain", "--out", "e")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "Note: the study has 1 complete trial(s) more than when it was confirmed; "
        "`autotune confirm` again to include them."
    )


# --------------------------------------------------------------------------------------
# The spec's confirm: block, run by `autotune run`


def test_run_confirms_after_its_search_once_per_target(write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, confirm={"top": 2, "seeds": 2}))
    first = invoke("run", "--study", path, "--trials", "3", "-q")
    assert first.exit_code == 0, first.output
    record = stored(stored_study())
    assert (record["top"], record["seeds"], len(record["ranking"])) == (2, 2, 2)
    for line in lines(record):
        assert line in first.stdout
    assert len(_store_runs()) == 4
    again = invoke("run", "--study", path, "--trials", "3", "-q")
    assert (
        "Note: study 'tiny-digits' was confirmed at 3 trials already; `autotune confirm` shows it again."
        in again.stdout
    )
    assert len(_store_runs()) == 4
    more = json.loads(invoke("run", "--study", path, "--trials", "4", "-q", "--json").stdout)
    recorded = {k: v for k, v in more["confirmation"].items() if k not in ("lines", "runs", "chosen_best", "document")}
    assert recorded == stored(stored_study()) and recorded["complete_trials"] == 4
    before, now = {r["trial"] for r in record["ranking"]}, {r["trial"] for r in recorded["ranking"]}
    assert more["confirmation"]["runs"] == {"trained": 2 * len(now - before), "reused": 2 * len(now & before)}
    assert more["confirmation_note"] is None


def test_a_run_that_finds_the_confirmation_taken_only_says_so(write_spec):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, confirm={"top": 2, "seeds": 2}))
    assert invoke("run", "--study", path, "--trials", "1", "-q").exit_code == 0
    stored_study().set_user_attr("confirmation_claimed_at", 2)  # as another `run` on this study would
    result = invoke("run", "--study", path, "--trials", "2", "-q")
    assert result.exit_code == 0, result.output
    assert (
        "Note: another `autotune run` took the confirmation of study 'tiny-digits' at 2 trials; if it was "
        "stopped, `autotune confirm` runs it."
    ) in result.stdout
    assert stored(stored_study())["complete_trials"] == 1  # the one made at 1 trial, untouched


def test_the_report_shows_the_confirmation_as_a_table_a_figure_and_its_lines(study_path):
    """#19: the report puts the best mean over seeds beside the single-seed best, in English and Chinese."""
    from autotune.words import i18n

    _confirm("--top", "3", "--seeds", "3")
    record = stored(stored_study())
    for lang, heading in (("en", "## Confirmation over seeds"), ("zh", "## 多随机种子复核")):
        result = invoke("report", "--study", "tiny-digits", "--lang", lang, "--out", f"rep-{lang}", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["figures"][0] == "confirmation.png"
        md = Path(f"rep-{lang}/report.md").read_text()
        assert heading in md
        for line in lines(record, lang):
            assert f"- {line}" in md
        top = record["ranking"][0]
        summary_line = next(x for x in md.splitlines() if x.startswith(("- Best over 3 seeds", "- 3 个种子上的最佳")))
        assert f"{top['trial']}" in summary_line and f"{top['mean'] * 100:.2f}%" in summary_line
        assert json.loads(Path(f"rep-{lang}/data/confirmation.json").read_text()) == record
        assert Path(f"rep-{lang}/confirmation.png").stat().st_size > 1000
        page = Path(f"rep-{lang}/index.html").read_text()
        assert i18n.say(lang, "h_confirmation") in page and i18n.say(lang, "cf_h_mean", n=3) in page


def test_configurations_no_test_tells_apart_are_called_so_at_this_budget():
    record = {
        "seeds": 3,
        "metric": "val_accuracy",
        "complete_trials": 9,
        "single_seed_best": 4,
        "alpha": 0.05,
        "epochs": 10,
        "overstatement": None,
        **rank([(4, 0.97, [0.95, 0.96, 0.955]), (2, 0.96, [0.951, 0.958, 0.957])], direction="maximize"),
    }
    assert record["ranking"][1]["versus_top"] == "indistinguishable"
    assert "These 2 configurations cannot be told apart at this budget (3 seeds each, 10 epochs)." in lines(record)
    assert "在当前预算下（每个 3 个种子，10 轮）这 2 个配置无法区分。" in lines(record, "zh")
    worse = {**record, **rank([(4, 0.97, [0.95, 0.96, 0.955]), (2, 0.9, [0.80, 0.82, 0.805])], direction="maximize")}
    assert worse["ranking"][1]["versus_top"] == "worse"
    assert not any("cannot be told apart at this budget" in line for line in lines(worse))


@pytest.mark.slow
def test_forked_confirmation_runs_are_the_runs_one_process_trains(write_spec, tmp_path, monkeypatch):
    # trials searched by two forked workers (one thread each): the confirmation's runs are trained in two forked
    # processes too, and give exactly what one process training them one after another gives
    import autotune
    from autotune.analysis import confirmation_runs
    from autotune.hardware import processes
    from autotune.spec.study import load_spec

    forked: list[int] = []
    real = processes.fork_map

    def spy(fn, jobs, k, **kwargs):
        forked.append(len(jobs))
        return real(fn, jobs, k, **kwargs)

    monkeypatch.setattr(confirmation_runs, "fork_map", spy)  # the name the confirmation calls
    spec = load_spec(write_spec(tiny_digits_spec(pruner={"name": "none"}, confirm={"top": 2, "seeds": 2})))
    summary = autotune.run_study(spec, n_trials=4, storage="sqlite:///a.db", workers=2, threads=1, device="cpu")
    assert forked == [4] and summary.confirmation["runs"] == {"trained": 4, "reused": 0}
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    for db in ("a.db", "b.db"):  # both confirm again from scratch, with 3 seeds
        storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
        optuna.delete_study(study_name="tiny-digits:replays", storage=storage)
    two = autotune.confirm("tiny-digits", top=2, seeds=3, storage="sqlite:///a.db", workers=2)
    one = autotune.confirm("tiny-digits", top=2, seeds=3, storage="sqlite:///b.db", workers=1)
    assert forked == [4, 6]  # the one-process confirmation forked nothing
    assert two.record["ranking"] == one.record["ranking"] and two.trained == one.trained == 6
    assert two.record["ranking"][0]["values"] != two.record["ranking"][1]["values"]


def test_forked_seed_batched_confirmations_train_one_batch_per_process(write_spec, tmp_path, monkeypatch):
    import autotune
    from autotune.analysis import confirmation_runs
    from autotune.hardware import processes

    forked: list[list] = []
    real = processes.fork_map

    def spy(fn, jobs, k, **kwargs):
        forked.append([(number, group) for number, _, group, _, _ in jobs])
        return real(fn, jobs, k, **kwargs)

    monkeypatch.setattr(confirmation_runs, "fork_map", spy)
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}))
    assert invoke("run", "--study", path, "--trials", "3", "-q", "--storage", "sqlite:///a.db").exit_code == 0
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    two = autotune.confirm("tiny-digits", top=2, seeds=3, storage="sqlite:///a.db", workers=2, batch_seeds=True)
    one = autotune.confirm("tiny-digits", top=2, seeds=3, storage="sqlite:///b.db", workers=1, batch_seeds=True)
    shared = two.record["seed_list"]
    assert forked == [[(two.record["single_seed_best"], shared), (forked[0][1][0], shared)]]  # a batch per trial
    assert two.record["ranking"] == one.record["ranking"] and two.trained == one.trained == 6


def test_run_confirms_on_the_data_it_loaded_for_its_search(write_spec, tmp_path, monkeypatch):
    # `run` loads the data once; its confirmation reuses them, and ranks exactly as a separate `confirm`
    # that loads them itself
    import autotune
    from autotune.execution import shared_study
    from autotune.search import prepare as prepare_module
    from autotune.spec.study import load_spec

    loads: list[str] = []
    real = prepare_module.prepare

    def counting(spec, **kwargs):
        loads.append(kwargs.get("device"))
        return real(spec, **kwargs)

    # every caller's name for it: the run's own load, and replay_data's (the confirmation's)
    monkeypatch.setattr(prepare_module, "prepare", counting)
    monkeypatch.setattr(shared_study, "prepare", counting)
    spec = load_spec(write_spec(tiny_digits_spec(pruner={"name": "none"}, confirm={"top": 2, "seeds": 2})))
    summary = autotune.run_study(spec, n_trials=3, storage="sqlite:///a.db", device="cpu")
    assert loads == ["cpu"] and summary.confirmation["runs"] == {"trained": 4, "reused": 0}
    optuna.delete_study(study_name="tiny-digits:replays", storage=optuna.storages.RDBStorage("sqlite:///a.db"))
    again = autotune.confirm("tiny-digits", top=2, seeds=2, storage="sqlite:///a.db")
    assert loads == ["cpu", "cpu"] and again.trained == 4
    assert again.record["ranking"] == summary.confirmation["ranking"]


@pytest.mark.slow
def test_ctrl_c_during_the_confirmation_after_a_search_says_what_was_kept_and_how_to_finish(write_spec, tmp_path, gate):
    """#31: Ctrl-C in the spec's confirmation printed only "Error: aborted". The run is held in the confirmation's
    first run (tests/holds.py), so the signal lands in that phase whatever the machine's speed."""
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, confirm={"top": 2, "seeds": 2}))
    gate.hold()
    with started(
        [
            sys.executable,
            "-m",
            "tests.holds",
            "autotune.analysis.confirmation:confirm>autotune.analysis.confirmation:replay",
            "--",
            "run",
            "--study",
            path,
            "--trials",
            "3",
            "-q",
        ],
        gate,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        cwd=tmp_path,
    ) as proc:
        wait_for(lambda: proc.pid in gate.blocked(), "the confirmation's first run", procs=[proc])
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.splitlines() == [
        "Error: interrupted during the confirmation: the search's 3 trials are stored, and each confirmation run that "
        "finished is kept in the replay store; run the same command again (or `autotune confirm --study tiny-digits "
        "--top 2 --seeds 2`) to finish it: finished runs are read back, not trained again"
    ]
    study = stored_study()
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3 and stored(study) is None
    again = invoke("run", "--study", path, "--trials", "3", "-q")  # the claim was given back: this one confirms
    assert again.exit_code == 0, again.output
    assert stored(stored_study())["seeds"] == 2


@pytest.mark.parametrize(
    "note, zh",
    [
        (
            "study 'mlp-mnist' has 3 complete trial(s), fewer than the 5 asked for: confirming those 3",
            "研究 'mlp-mnist' 只有 3 个完成的试验，少于要求的 5 个：复核这 3 个",
        ),
        (
            "study 'x' has 2 complete trial(s) that meet its constraints of autotune's own, fewer than the 5 "
            "asked for: "
            "confirming those 2",
            "研究 'x' 只有 2 个满足约束的完成试验（autotune 自己训练的），少于要求的 5 个：复核这 2 个",
        ),
        ("a note of another kind", "a note of another kind"),
    ],
)
def test_a_stored_note_reads_in_chinese(note, zh):
    from autotune.analysis.confirmation_words import note_in

    assert note_in(note, "en") == note and note_in(note, "zh") == zh
