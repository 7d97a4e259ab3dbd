"""Naming a stored study by its name: every command that reads a study uses the spec stored with it."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml

from tests.conftest import assert_one_error_line, file_digest, invoke, tiny_digits_spec


@pytest.fixture
def my_study(tmp_path, monkeypatch):
    """`autotune run --study sub/my.yaml` (spec name: my-study), then a fresh folder without the YAML file."""
    (tmp_path / "sub").mkdir()
    spec = tiny_digits_spec(name="my-study", max_epochs=2, pruner={"name": "none"})
    (tmp_path / "sub" / "my.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    assert (
        invoke("run", "--study", str(tmp_path / "sub" / "my.yaml"), "--trials", "2", "--storage", url, "-q").exit_code
        == 0
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return url


def test_report_export_and_replay_accept_the_stored_name(my_study):
    url = my_study
    study = optuna.load_study(study_name="my-study", storage=url)
    report = invoke("report", "--study", "my-study", "--storage", url, "--format", "md")
    assert report.exit_code == 0, report.output
    assert report.stdout.startswith("Report written to report-my-study/")
    assert "my-study" in Path("report-my-study/report.md").read_text()
    export = invoke("export", "--study", "my-study", "--storage", url, "--no-retrain", "--json")
    assert export.exit_code == 0, export.output
    assert json.loads(export.stdout)["best"]["trial"] == study.best_trial.number
    replay = invoke("replay", "--study", "my-study", "--storage", url, "--trial", "best")
    assert replay.exit_code == 0, replay.output
    assert f"Reproduced exactly: val_accuracy {study.best_value!r}" in replay.stdout


def test_sweep_and_ablate_accept_the_stored_name(my_study):
    url = my_study
    sweep = invoke(
        "sweep",
        "--study",
        "my-study",
        "--storage",
        url,
        "--param",
        "batch_size",
        "--values",
        "64",
        "--epochs",
        "1",
        "--json",
    )
    assert sweep.exit_code == 0, sweep.output
    assert Path("sweep-my-study/sweep-batch_size.json").is_file()
    ablate = invoke("ablate", "--study", "my-study", "--storage", url, "--seeds", "2", "--epochs", "1", "--json")
    assert ablate.exit_code == 0, ablate.output
    assert json.loads(Path("ablation-my-study/ablation.json").read_text())["rows"][0]["kind"] == "best"


def test_an_unknown_name_is_one_line_naming_every_place_looked_and_writes_nothing(my_study, tmp_path):
    before = file_digest(tmp_path / "studies.db")
    result = invoke("report", "--study", "nope", "--storage", my_study)
    assert_one_error_line(
        result,
        "unknown study 'nope': not a shipped spec (",
        "mlp-mnist",
        f"a YAML file, nor a study in storage '{my_study}'",
    )
    assert file_digest(tmp_path / "studies.db") == before
    assert not Path("report-nope").exists()


def test_a_study_autotune_did_not_create_has_no_spec_to_use(tmp_path):
    url = f"sqlite:///{tmp_path / 'foreign.db'}"
    optuna.create_study(study_name="foreign", storage=url).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    result = invoke("report", "--study", "foreign", "--storage", url)
    assert_one_error_line(
        result, "study 'foreign' in storage", "has no stored spec", "--study FILE --study-name foreign"
    )


def test_a_shipped_spec_name_still_means_the_shipped_spec(tmp_path):
    """`--study mlp-digits` is the shipped spec even where no study of that name is stored."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    optuna.create_study(study_name="other", storage=url)
    result = invoke("report", "--study", "mlp-digits", "--storage", url)
    assert_one_error_line(result, f"no study 'mlp-digits' in storage '{url}'")


def test_a_worker_joins_a_stored_study_by_its_name(my_study):
    url = my_study
    optuna.load_study(study_name="my-study", storage=url).set_user_attr("target_trials", 3)  # one more to do
    result = invoke("worker", "--study", "my-study", "--storage", url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["finished"] == 3
    assert len(optuna.load_study(study_name="my-study", storage=url).trials) == 3
