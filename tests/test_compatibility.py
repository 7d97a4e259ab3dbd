"""A study made by an old release (844ad8e, the flat layout before the subpackages) opens, reports, exports,
replays and confirms with this code exactly as the old code did.

The fixture, tests/fixtures/compat-844ad8e/, was made by tests/fixtures/make_compat_fixture.py with the old
checkout's own CLI: a hand table imported (one complete row, one queued), 6 trials of a tiny digits spec,
``confirm --top 2 --seeds 2``, ``replay --trial best --seeds 2``, then ``report`` and ``export``; what those commands
printed (``--json``) and wrote is under ``expected/``. Each test works on a copy of ``study.db`` in its own folder,
opened through the same relative URL the old commands used, so even the storage line of the report is the same.

Between 844ad8e and the subpackages came deliberate changes (CHANGELOG, [Unreleased], "One best trial (#31)" and
"Reports rest importance, analysis and figures on autotune's own trials (#31, 5)", "tables name ... the seeds and
the budget (#31, 8)"). Where they change what the old code said, the test checks the new wording or choice as
documented, and a strict xfail test states the old behaviour, so that the difference stays visible. The numbers
(stored trials, confirmation, replays, the final model of a trial) are the old ones to the bit.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import optuna
import pytest

import autotune

FIXTURE = Path(__file__).parent / "fixtures" / "compat-844ad8e"
EXPECTED = FIXTURE / "expected"
STORAGE = "sqlite:///study.db"
STUDY = "compat-digits"

# What the old code's `run --json` and `export` said (expected/run.json, expected/trials.csv): trial 0 is the hand
# table's complete row, trial 1 its queued row trained by `run`, trials 2-5 sampled.
OLD_VALUES = [0.715, 0.8780487804878049, 0.818815331010453, 0.8780487804878049, 0.6898954703832753, 0.8780487804878049]
OLD_BEST_TRIAL = 1  # the first of the three trials at 0.8780487804878049
OLD_CONFIRMED_BEST = 3
OLD_SEED_LIST = [413118170, 640516999]
OLD_FINAL_MODEL = (0.9305555555555556, 0.2904189215766059)  # the old export of trial 3, one thread: test accuracy, loss
ONE_BEST = "CHANGELOG [Unreleased] 'One best trial (#31)', commit 15f92a4"
OWN_TRIALS = "CHANGELOG [Unreleased] 'Reports rest importance, analysis and figures on autotune's own trials', dbf4804"
CONFIRM_WORDS = (
    "CHANGELOG [Unreleased] '`ablate`, `sweep` and `confirm` tables name the study, the trial, the seeds and the "
    "budget', eb2e88a"
)
# The figures of a run that are the training's own results (not its timing, not whether it was read back)
RUN_FIGURES = ("seed", "epochs", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "n_params", "diverged")


def expected(name: str):
    return json.loads((EXPECTED / name).read_text())


@pytest.fixture
def old_study(tmp_path) -> str:
    """A copy of the fixture in this test's folder (the working folder), opened as ``sqlite:///study.db``."""
    for name in ("study.db", "spec.yaml", "hand-table.csv"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    return STORAGE


def without_replay_store(url: str) -> None:
    """Drop the study's replay store, so that a replay or confirmation must train its runs again."""
    optuna.delete_study(study_name=f"{STUDY}:replays", storage=url)


def figures(run) -> dict:
    run = run if isinstance(run, dict) else vars(run)
    return {key: run[key] for key in RUN_FIGURES}


def test_the_fixture_is_what_the_readme_says():
    """The fixture itself, read with Optuna alone: 6 complete trials with the old run's values, and a replay store."""
    trials = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{FIXTURE / 'study.db'}").trials
    assert [t.value for t in trials] == OLD_VALUES
    assert [t.user_attrs.get("source") for t in trials[:2]] == ["hand", "hand-queued"]
    names = {s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{FIXTURE / 'study.db'}")}
    assert names == {STUDY, f"{STUDY}:replays"}
    assert (FIXTURE / "study.db").stat().st_size < 2_000_000


def test_the_study_opens_with_the_same_trials(old_study):
    rows = {row.name: row for row in autotune.list_studies(old_study)}
    listed = expected("studies.json")  # the old `studies --json`: the studies, and the replay stores apart
    old_rows = {row["name"]: row for row in listed["studies"]}
    assert set(rows) == set(old_rows) | {s["name"] for s in listed["replay_stores"]} == {STUDY, f"{STUDY}:replays"}
    assert rows[f"{STUDY}:replays"].states == {"COMPLETE": listed["replay_stores"][0]["runs"]} == {"COMPLETE": 6}
    row, old = rows[STUDY], old_rows[STUDY]
    assert (row.direction, row.states, row.best_value, row.best_trial, row.spec) == (
        old["direction"],
        old["states"],
        old["best_value"],
        old["best_trial"],
        old["spec"],
    )
    assert (row.states, row.best_value, row.best_trial) == ({"COMPLETE": 6}, OLD_VALUES[1], OLD_BEST_TRIAL)

    study = autotune.load_study(STUDY, storage=old_study)
    trials = study.trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 6
    assert [t.value for t in trials] == OLD_VALUES
    assert study.best_trial.number == OLD_BEST_TRIAL
    with open(EXPECTED / "trials.csv", newline="", encoding="utf-8") as f:
        old_trials = list(csv.DictReader(f))
    assert [(int(r["number"]), r["state"], float(r["value"])) for r in old_trials] == [
        (t.number, t.state.name, t.value) for t in trials
    ]
    hand, queued = trials[0].user_attrs, trials[1].user_attrs
    assert (hand["source"], hand["hand_row"], hand["outside_space"]) == ("hand", 1, ["batch_size=32 (choices 64, 128)"])
    assert (queued["source"], queued["seed"]) == ("hand-queued", 369571992)


def test_importing_the_hand_table_again_adds_nothing(old_study):
    """The rows' keys (a digest of the header and cells) are the ones the old import stored."""
    result = autotune.import_table(STUDY, "hand-table.csv", storage=old_study)
    assert (result.added, result.queued, result.record["already_imported"]) == (0, 0, 2)
    assert len(optuna.load_study(study_name=STUDY, storage=old_study).trials) == 6


def sections(text: str) -> dict[str, str]:
    """A Markdown report by its ``## `` sections ("" for what comes before the first), trailing blanks dropped."""
    parts = re.split(r"^## ", re.sub(r"[ \t]+\n", "\n", text), flags=re.M)
    out = {"": parts[0].strip()}
    for part in parts[1:]:
        title, _, rest = part.partition("\n")
        out[title] = rest.strip()
    return out


def new_report(url: str, folder: Path) -> tuple[str, autotune.ReportResult]:
    result = autotune.report(STUDY, storage=url, out_dir="report", formats=("md",))
    return (folder / "report" / "report.md").read_text(encoding="utf-8"), result


def test_the_report_says_what_the_old_one_said(old_study, tmp_path):
    """Summary, confirmation, trial table, hand vs automated and figures as the old report had them; where #31
    changed the words, the changed lines are the documented ones."""
    text, result = new_report(old_study, tmp_path)
    old_text = (EXPECTED / "report.md").read_text(encoding="utf-8")
    new, old = sections(text), sections(old_text)
    kept = (
        "- Best val_accuracy in the search (one seed per trial): 87.80% (trial 1)",
        "- Best over 2 seeds (confirmation): trial 3, mean val_accuracy 88.50% ± 0.49 (95% interval [84.07%, 92.93%]);"
        " 2 trials confirmed, see below",
        "| 1 | 3 | 87.80% | 88.50% ± 0.49 | [84.07%, 92.93%] | 88.85%, 88.15% | - | top |",
        "| 2 | 1 | 87.80% | 81.36% ± 1.23 | [70.29%, 92.43%] | 82.23%, 80.49% | - | too few seeds |",
        "| 0 (hand) | 0.01 | 32 | [64,32,10] | - | 0.41 | 71.50 | complete | by hand |",
    )
    for line in kept:
        assert line in old_text.splitlines(), line  # the old report said it ...
        assert line in text.splitlines(), line  # ... and so does the new one
    # the summary: every line the same, the timing lines too (their seconds come from the stored trials)
    summary = [line for line in new[""].splitlines() if not line.startswith("> ")]
    assert summary == [line for line in old[""].splitlines() if not line.startswith("> ")]
    for title in ("Trials", "By hand vs automated", "Figures"):
        assert new[title] == old[title], title
    # the confirmation: the same table and verdicts; the first line names the seeds and the budget (#31, 8), and one
    # line says that the 2-seed confirmation is a tie, so trial 1 stays the best (#31, one best)
    old_lines = expected("confirm.json")["lines"]
    first = (
        old_lines[0]
        .replace("over the same 2 seeds,", "over the same 2 seeds (413118170, 640516999),")
        .removesuffix(".")
        + ", 3 epochs per run as in the search."
    )
    tie = (
        "Trial 3 and the single-seed best, trial 1, are not measurably different over 2 seeds: a tie, so trial 1 "
        "stays the best (export, replay --trial best, ablate and sweep use it); the best changes only where a "
        "confirmation measures the single-seed best worse."
    )
    documented = [first, *old_lines[1:4], tie, old_lines[4]]
    table = [line for line in old["Confirmation over seeds"].splitlines() if line.startswith("|")]
    assert new["Confirmation over seeds"] == "\n".join([*table, "", *(f"- {line}" for line in documented)])
    # importance, analysis and best practice rest on autotune's own 5 trials, no longer on all 6 (#31, 5)
    assert "5 complete trials, 10 needed" in new["Hyperparameter importance"]
    assert "6 complete trials, 10 needed" in old["Hyperparameter importance"]
    assert new["Analysis"].startswith("Each line compares the final val_accuracy of 5 complete trials;")
    assert old["Analysis"].startswith("Each line compares the final val_accuracy of 6 complete trials;")
    assert result.notes[0] == (
        "Importance and analysis use autotune's own 5 complete trials; the 1 imported hand rows, measured with "
        "their own training budget, are compared apart (hand table vs autotune)."
    )
    assert sorted(result.figures) == sorted(expected("report.json")["figures"])


@pytest.mark.xfail(strict=True, reason=f"report wording and hand rows left out of the importance: {OWN_TRIALS}")
def test_the_report_is_the_old_one_word_for_word(old_study, tmp_path):
    text, _ = new_report(old_study, tmp_path)
    assert sections(text) == sections((EXPECTED / "report.md").read_text(encoding="utf-8"))


def exported(url: str, folder: Path, **options) -> tuple[autotune.ExportResult, dict, str]:
    result = autotune.export(STUDY, storage=url, out_dir="export", threads=1, **options)
    out = folder / "export"
    assert (out / "trials.csv").read_text(encoding="utf-8") == (EXPECTED / "trials.csv").read_text(encoding="utf-8")
    return result, json.loads((out / "best.json").read_text()), (out / "best.yaml").read_text()


def final_figures(final: dict) -> dict:
    """The final model's record less its timings."""
    return {
        k: [{a: b for a, b in s.items() if a != "seconds"} for s in v] if k == "seeds" else v
        for k, v in final.items()
        if k != "seconds"
    }


@pytest.mark.slow
def test_export_of_the_old_export_s_trial_retrains_it_bit_for_bit(old_study, tmp_path):
    """``export --trial 3`` (the trial the old export chose) writes the old best.json, less the words on how it was
    chosen, and retrains the same final model, to the bit (one thread, as the old export was made)."""
    result, best, _ = exported(old_study, tmp_path, trial=OLD_CONFIRMED_BEST)
    old_best = expected("best.json")
    how = ("chosen_by", "confirmed", "since_confirmation")
    assert {k: v for k, v in best.items() if k not in how} == {k: v for k, v in old_best.items() if k not in how}
    assert (best["chosen_by"], best["confirmed"]) == ("--trial 3", None)
    assert old_best["chosen_by"].startswith("confirmed best")
    old_final = expected("export.json")["final_model"]
    new_final = result.final_model.to_dict()
    assert new_final.pop("step") == "plain"  # a key added since (#32): the old trials trained with the plain step
    assert new_final.pop("batch") is None  # and one by one (#32)
    assert final_figures(new_final) == final_figures(old_final)
    assert (result.final_model.test_accuracy, result.final_model.test_loss) == OLD_FINAL_MODEL


@pytest.mark.slow
def test_export_keeps_the_search_s_best_where_the_confirmation_is_a_tie(old_study, tmp_path):
    """The new rule (#31): two seeds cannot measure trial 1 worse than trial 3, so trial 1 stays the best."""
    result, best, _ = exported(old_study, tmp_path)
    assert (best["trial"], best["confirmed"]["tie_with"], best["seed"]) == (
        OLD_BEST_TRIAL,
        OLD_CONFIRMED_BEST,
        369571992,
    )
    assert "no measurable difference from trial 3, so it is kept" in best["chosen_by"]
    assert autotune.best_config(STUDY, storage=old_study)["trial"] == OLD_BEST_TRIAL
    assert result.final_model.seed == 369571992


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True, reason=f"export picks the search's best on a tie, not the confirmation's top: {ONE_BEST}"
)
def test_export_chooses_the_old_export_s_trial(old_study, tmp_path):
    _, best, yaml_text = exported(old_study, tmp_path, retrain_on=None)
    assert best == expected("best.json")
    assert yaml_text == (EXPECTED / "best.yaml").read_text()


@pytest.mark.slow
def test_replaying_the_best_trial_gives_the_old_runs_bit_for_bit(old_study):
    old = expected("replay.json")
    assert [r["reused"] for r in old["runs"]] == [False, False]  # the old code trained them

    again = autotune.replay(STUDY, trial="best", seeds=2, storage=old_study)
    assert again.trial == OLD_BEST_TRIAL
    assert [r.reused for r in again.runs] == [True, True], "the old replay's runs are found under the same keys"
    assert [figures(r) for r in again.runs] == [figures(r) for r in old["runs"]]

    without_replay_store(old_study)
    fresh = autotune.replay(STUDY, trial="best", seeds=2, storage=old_study)
    assert [r.reused for r in fresh.runs] == [False, False]
    # stored before training steps existed: no ``step`` attribute, so trained (and replayed) with the plain step
    assert "step" not in autotune.load_study(STUDY, storage=old_study).best_trial.user_attrs
    assert [(r.precision, r.step) for r in fresh.runs] == [("fp32", "plain")] * 2
    assert [figures(r) for r in fresh.runs] == [figures(r) for r in old["runs"]]  # float ==, not approx
    assert fresh.runs[0].val_accuracy == OLD_VALUES[OLD_BEST_TRIAL]
    assert fresh.reproduction == old["reproduction"]
    assert fresh.reproduction.startswith("Reproduced exactly")


def old_record() -> dict:
    """The confirmation the old code stored: its `confirm --json` less what only the command printed."""
    return {k: v for k, v in expected("confirm.json").items() if k not in ("lines", "runs")}


def test_the_confirmation_reads_back_unchanged(old_study):
    from autotune.analysis import confirmation

    record = confirmation.stored(autotune.load_study(STUDY, storage=old_study))
    assert record == old_record()
    assert (record["best_trial"], record["single_seed_best"], record["seed_list"]) == (
        OLD_CONFIRMED_BEST,
        OLD_BEST_TRIAL,
        OLD_SEED_LIST,
    )
    lines = confirmation.lines(record)
    old_lines = expected("confirm.json")["lines"]
    assert lines[1:4] == old_lines[1:4] and lines[-1] == old_lines[-1]
    assert lines[0].startswith(old_lines[0].split(",")[0])  # "Confirmed the top 2 of 6 complete trials (...)"


@pytest.mark.xfail(strict=True, reason=f"confirmation verdict names seeds and budget, and a tie line: {CONFIRM_WORDS}")
def test_the_confirmation_reads_in_the_old_words(old_study):
    from autotune.analysis import confirmation

    record = confirmation.stored(autotune.load_study(STUDY, storage=old_study))
    assert confirmation.lines(record) == expected("confirm.json")["lines"]


def ranking(record: dict) -> list:
    keys = ("trial", "stored_value", "values", "mean", "std", "ci95", "p_value", "p_holm", "versus_top")
    return [{k: r[k] for k in keys} for r in record["ranking"]]


@pytest.mark.slow
def test_confirming_again_reuses_the_old_runs_then_retrains_them_bit_for_bit(old_study):
    old = old_record()
    again = autotune.confirm(STUDY, top=2, seeds=2, storage=old_study)
    assert (again.trained, again.reused) == (0, 4)
    # the new record adds what the new confirm also states (study, hand rows left out, own trials, train subset);
    # every key the old one had keeps its value
    assert {k: again.record[k] for k in old} == old
    assert set(again.record) - set(old) == {"study", "hand_rows", "own_trials", "train_subset", "batched"}
    assert again.record["batched"] is False  # #32: the old runs trained one seed at a time
    assert (again.record["hand_rows"], again.record["own_trials"]) == ([0], 5)
    assert again.best_trial == OLD_CONFIRMED_BEST and again.chosen == OLD_BEST_TRIAL

    without_replay_store(old_study)
    fresh = autotune.confirm(STUDY, top=2, seeds=2, storage=old_study)
    assert (fresh.trained, fresh.reused) == (4, 0)
    assert ranking(fresh.record) == ranking(old)  # per-seed values, means, intervals: float ==, not approx
    assert [r["values"] for r in fresh.record["ranking"]] == [
        [0.8885017421602788, 0.8815331010452961],
        [0.8222996515679443, 0.8048780487804879],
    ]
