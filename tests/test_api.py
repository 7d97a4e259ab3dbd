"""The Python API: one function behind each command, typed results, checked against the database."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

import autotune
from tests.conftest import file_digest, tiny_digits_spec


@pytest.fixture
def stored(tmp_path):
    """A 3-trial digits study run through the API (no pruning: every trial complete)."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    spec = autotune.parse_spec(tiny_digits_spec(max_epochs=2, pruner={"name": "none"}), base_dir=tmp_path)
    summary = autotune.run_study(spec, n_trials=3, storage=url)
    return spec, url, summary


def test_run_study_returns_the_summary_the_database_holds(stored):
    spec, url, summary = stored
    study = optuna.load_study(study_name="tiny-digits", storage=url)
    assert isinstance(summary, autotune.RunSummary)
    assert (summary.finished, summary.target, summary.states) == (3, 3, {"COMPLETE": 3})
    assert (summary.best_trial, summary.best_value) == (study.best_trial.number, study.best_value)
    assert summary.best_params == study.best_trial.params


def test_report_export_and_replay_by_the_stored_name(stored, tmp_path):
    spec, url, _ = stored
    best = optuna.load_study(study_name="tiny-digits", storage=url).best_trial

    rep = autotune.report("tiny-digits", storage=url, out_dir=str(tmp_path / "rep"), formats=("md",))
    assert isinstance(rep, autotune.ReportResult) and rep.out == str(tmp_path / "rep")
    assert "report.md" in rep.files and "index.html" not in rep.files
    assert all((tmp_path / "rep" / f).is_file() for f in rep.files)
    assert set(rep.figures) <= set(rep.files)

    exp = autotune.export("tiny-digits", storage=url, out_dir=str(tmp_path / "exp"), retrain_on=None)
    assert isinstance(exp, autotune.ExportResult) and exp.final_model is None
    assert (exp.best.trial, exp.best.value, exp.best.params) == (best.number, best.value, best.params)
    assert exp.files == sorted(p.name for p in (tmp_path / "exp").iterdir())
    assert json.loads((tmp_path / "exp" / "best.json").read_text())["trial"] == best.number

    again = autotune.replay("tiny-digits", trial="best", storage=url)
    assert isinstance(again, autotune.ReplayResult) and again.trial == best.number
    assert [r.seed for r in again.runs] == [best.user_attrs["seed"]]
    assert again.runs[0].val_accuracy == best.user_attrs["val_accuracy"]  # bit-exact on the CPU
    assert again.reproduction.startswith("Reproduced exactly: val_accuracy")
    recorded = optuna.load_study(study_name="tiny-digits:replays", storage=url).trials
    assert [t.user_attrs["run"]["val_accuracy"] for t in recorded] == [again.runs[0].val_accuracy]
    assert again.to_dict()["reproduction"] == again.reproduction


def test_sweep_and_ablate_write_what_they_return(stored, tmp_path):
    spec, url, _ = stored
    sw = autotune.sweep(spec, param="batch_size", values=[64, 128], epochs=1, storage=url, out_dir=str(tmp_path / "sw"))
    assert isinstance(sw, autotune.SweepResult) and sw.out == str(tmp_path / "sw")
    assert [r.config["batch_size"] for r in sw.replays] == [64, 128]
    on_disk = json.loads((tmp_path / "sw" / "sweep-batch_size.json").read_text())
    assert [r["val_accuracy"]["mean"] for r in on_disk["rows"]] == [r.mean("val_accuracy") for r in sw.replays]

    seen = []
    ab = autotune.ablate(spec, seeds=2, epochs=1, storage=url, out_dir=str(tmp_path / "ab"), on_row=seen.append)
    assert isinstance(ab, autotune.AblationResult) and ab.rows == seen
    assert [r.kind for r in ab.rows][:2] == ["best", "baseline"]
    assert all(len(r.replay.runs) == 2 for r in ab.rows)
    on_disk = json.loads((tmp_path / "ab" / "ablation.json").read_text())
    assert on_disk["verdict"] == ab.verdict and (tmp_path / "ab" / "ablation.md").read_text() == ab.markdown


def test_list_studies_and_load_study(stored):
    spec, url, _ = stored
    rows = {r.name: r for r in autotune.list_studies(url)}
    assert rows["tiny-digits"].states == {"COMPLETE": 3} and rows["tiny-digits"].spec == "tiny-digits"
    study = autotune.load_study("tiny-digits", storage=url)
    assert study.best_value == rows["tiny-digits"].best_value


def test_api_errors_are_autotune_errors_and_write_nothing(stored, tmp_path):
    spec, url, _ = stored
    db = tmp_path / "api.db"
    before = file_digest(db)
    with pytest.raises(autotune.StudyNotFoundError, match="unknown study 'nope': not a shipped spec"):
        autotune.report("nope", storage=url, out_dir=str(tmp_path / "never"))
    with pytest.raises(autotune.OptionError, match="give exactly one of trial N|best and config FILE"):
        autotune.replay(spec, trial="best", config={"lr": 0.01}, storage=url)
    with pytest.raises(autotune.OptionError, match="seeds must be an integer >= 1, got 0"):
        autotune.replay(spec, trial="best", seeds=0, storage=url)
    with pytest.raises(autotune.ConfigError, match="--set: unknown parameter 'colour'"):
        autotune.replay(spec, trial="best", overrides={"colour": 1}, storage=url)
    with pytest.raises(autotune.TrialNotFoundError, match="has no trial 7; trials are 0..2"):
        autotune.export(spec, storage=url, trial=7, out_dir=str(tmp_path / "never"))
    assert file_digest(db) == before and not Path(tmp_path / "never").exists()


def test_a_count_of_seeds_and_a_language_are_refused_before_any_work(stored, tmp_path):
    """The one check of each (storage.replays.check_seeds, words.i18n.check_lang) runs before a folder is made or
    a run is trained, in every function that takes one."""
    spec, url, _ = stored
    db = tmp_path / "api.db"
    before = file_digest(db)
    with pytest.raises(autotune.OptionError, match="^seeds must be an integer >= 1, got 0$"):
        autotune.export(spec, storage=url, seeds=0, out_dir=str(tmp_path / "never"))
    with pytest.raises(autotune.OptionError, match="^seeds must be an integer >= 1, got True$"):
        autotune.ablate(spec, storage=url, seeds=True, out_dir=str(tmp_path / "never"))
    with pytest.raises(autotune.OptionError, match="^seeds must be an integer >= 1, got '2'$"):
        autotune.sweep(spec, param="lr", values=[0.1], seeds="2", storage=url, out_dir=str(tmp_path / "never"))
    for call in (autotune.ablate, autotune.sweep):
        with pytest.raises(autotune.OptionError, match="^lang 'fr' is not a report language; allowed: en, zh; "):
            call(
                spec,
                storage=url,
                lang="fr",
                out_dir=str(tmp_path / "never"),
                **({"param": "lr", "values": [0.1]} if call is autotune.sweep else {}),
            )
    assert file_digest(db) == before and not (tmp_path / "never").exists()


def test_every_public_name_resolves_and_is_listed():
    for name in autotune.__all__:
        assert getattr(autotune, name) is not None, name
    assert {"report", "export", "replay", "ablate", "sweep", "run_study", "join_study", "list_studies"} <= set(
        autotune.__all__
    )
    assert callable(autotune.report) and autotune.report.__module__ == "autotune.api"
