"""Hand tables into studies: complete trials carrying the recorded results, queued rows, --base, --rerun,
idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml

import autotune
from autotune.analysis.confirmation import lines
from autotune.base.seeding import trial_seed
from autotune.errors import OptionError, TrialNotFoundError
from tests.conftest import assert_one_error_line, invoke, stored_study, tiny_digits_spec
from tests.hand_tables.test_hand_tables import GRID, GRID_ROWS, SEEDS, approx_rows

GRID_LINES = [
    "Study 'mlp-mnist': 28 row(s) read from hand-grid-000.csv: 20 complete trial(s) added (trials 0-19); 0 queued "
    "for `autotune run`; 8 not queued.",
    "From the table: lr, batch_size, n_layers, units, init, lr_schedule.",
    "Where a table gives no value: from the spec's defaults: activation=relu, optimizer=sgd, weight_decay=0, "
    "dropout=0, batch_norm=False, augment=False.",
    "Outside the space of spec 'mlp-mnist' (kept in each trial's user attribute 'config', not given to Optuna as a "
    "parameter):",
    "  batch_size 20, 50, 100, 16, 32 (choices 64, 128, 256, 512): 17 trial(s), rows 1, 4-5, 8, 11, 14-21, 23-24, "
    "26-27",
    "  weight_decay 0 ([1e-06, 0.01], log): 20 trial(s), rows 1, 4-5, 8, 11, 14-28",
    "lr_schedule=step stands for the schedule written '0.01；100；0.01' (start；step；factor) in rows 20-28; "
    "autotune's step schedule multiplies the learning rate by 0.1 at each third of the epochs, so a replay or a "
    "rerun of these rows trains that schedule, not the table's.",
    "Not queued (8 row(s); a queued trial can take only values the space holds):",
    "  batch_size 20, 120 (choices 64, 128, 256, 512): 8 row(s), rows 2-3, 6-7, 9-10, 12-13",
    "Best recorded val_accuracy: 97.57% (row 21, trial 12).",
]


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No dataset anywhere: a command that loads MNIST fails."""
    monkeypatch.setenv("AUTOTUNE_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("AUTOTUNE_CACHE_DIR", str(tmp_path / "no-cache"))


def test_the_hand_grid_becomes_the_trials_its_table_says(no_data):
    if not GRID.is_file():
        pytest.skip("the seed hand grid is not beside this checkout")
    result = invoke("import", "--study", "mlp-mnist", "--table", str(GRID))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:-1] == GRID_LINES
    study = stored_study("mlp-mnist")
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 20  # nothing queued: rows without a result do not fit
    recorded = [r for r in GRID_ROWS if r[7] is not None]
    got = []
    for t in trials:
        a = t.user_attrs
        units = [t.params[f"units_l{i}"] for i in range(t.params["n_layers"])]
        got.append(
            (
                a["hand_row"],
                t.params["lr"],
                a.get("lr_schedule_as_written"),
                a["config"]["batch_size"],
                units,
                t.params["init"],
                a["train_loss"],
                t.value,
                a["remark"],
            )
        )
        assert a["source"] == "hand" and a["hand_table"] == "hand-grid-000.csv"
        assert a["val_accuracy"] == t.value and a["structure"] == "[784," + ",".join(map(str, units)) + ",10]"
        assert t.params["lr_schedule"] == ("step" if a["hand_row"] >= 20 else "none")
        assert a["config"]["units"] == units and a["config"]["weight_decay"] == 0.0
        batch = a["config"]["batch_size"]  # a parameter only where the space holds it
        assert t.params.get("batch_size") == (batch if batch == 64 else None)
        assert a["outside_space"] == ([] if batch == 64 else [f"batch_size={batch} (choices 64, 128, 256, 512)"]) + [
            "weight_decay=0 ([1e-06, 0.01], log)"
        ]
        assert "weight_decay" not in t.params and "epochs" not in a  # the grid records no epochs
    assert got == approx_rows(recorded)
    assert [t.number for t in trials] == list(range(20))


def test_the_report_rests_importance_and_analysis_on_autotune_trials_and_says_so(no_data):
    """#31, 5: importance used "22 complete trials" (20 hand rows and 2 of autotune's) while the analysis used
    autotune's alone, and "best practice" ranked what the hand rows' own budget explained. One declared set now:
    autotune's own trials; the hand rows are compared apart."""
    if not GRID.is_file():
        pytest.skip("the seed hand grid is not beside this checkout")
    assert invoke("import", "--study", "mlp-mnist", "--table", str(GRID)).exit_code == 0
    result = invoke("report", "--study", "mlp-mnist", "--format", "md", "--out", "rep", "--json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert notes[0] == (
        "Importance and analysis use autotune's own 0 complete trials; the 20 imported hand rows, "
        "measured with their own training budget, are compared apart (hand table vs autotune)."
    )
    imp = json.loads(Path("rep/data/importance.json").read_text())
    assert imp == {
        "default": {"error": "needs at least 2 complete trials"},
        "fanova": {"error": "needs at least 2 complete trials"},
    }
    md = Path("rep/report.md").read_text()
    assert "## Best practice" not in md and "## Leads to test (from 0 complete trials" in md


def test_importing_the_same_table_twice_adds_nothing(no_data):
    if not GRID.is_file():
        pytest.skip("the seed hand grid is not beside this checkout")
    assert invoke("import", "--study", "mlp-mnist", "--table", str(GRID)).exit_code == 0
    again = invoke("import", "--study", "mlp-mnist", "--table", str(GRID), "--json")
    assert again.exit_code == 0, again.output
    record = json.loads(again.stdout)
    assert (record["added"], record["queued"], record["not_queued"], record["already_imported"]) == (0, 0, 8, 20)
    assert record["lines"][0] == (
        "Study 'mlp-mnist': 28 row(s) read from hand-grid-000.csv: 0 complete trial(s) "
        "added; 0 queued for `autotune run`; 8 not queued; 20 already in the study "
        "(imported before; not added again)."
    )
    assert [r["trial"] for r in record["rows"] if r["action"] == "already imported"] == list(range(20))
    assert len(stored_study("mlp-mnist").trials) == 20


BASE_004 = {
    "optimizer": "adam",
    "lr": 0.001,
    "batch_size": 100,
    "n_layers": 2,
    "channels": [32, 64],
    "kernel_size": 5,
    "fc_units": 512,
}


def test_report_004s_tables_with_its_baseline_cnn(tmp_path, no_data):
    """Four one-factor tables; everything a table does not vary is the report's baseline (--base)."""
    source = next(SEEDS.glob("004_*.txt"), None)
    if source is None:
        pytest.skip("seed report 004 is not beside this checkout")
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE_004))
    result = autotune.import_table("cnn-mnist", str(source), base="base.yaml", maps=["隐藏层神经元=fc_units"])
    name = source.name
    assert result.lines[:3] == [
        f"Study 'cnn-mnist': 15 row(s) read from {name}#1, {name}#2, {name}#3, {name}#4: 15 complete trial(s) added "
        "(trials 0-14); 0 queued for `autotune run`.",
        f"From the tables: {name}#1: no parameter; {name}#2: lr; {name}#3: fc_units; {name}#4: batch_size.",
        "Where a table gives no value: from --base base.yaml: lr=0.001, batch_size=100, n_layers=2, "
        "channels=[32,64], kernel_size=5, fc_units=512, optimizer=adam; from the spec's defaults: "
        "activation=relu, init=default, "
        "weight_decay=0, dropout=0, batch_norm=False, lr_schedule=none, augment=False.",
    ]
    assert result.lines[-1] == f"Best recorded val_accuracy: 98.90% ({name}#3 row 2, trial 8)."
    trials = stored_study("cnn-mnist").get_trials()
    base = {
        **BASE_004,
        "activation": "relu",
        "init": "default",
        "weight_decay": 0.0,
        "dropout": 0.0,
        "batch_norm": False,
        "lr_schedule": "none",
        "augment": False,
    }
    expected = (
        [({}, 5, 0.9878), ({}, 10, 0.9880), ({}, 20, 0.9858)]
        + [({"lr": lr}, None, acc) for lr, acc in [(0.1, 0.1135), (0.01, 0.1280), (0.001, 0.9878), (0.0001, 0.9805)]]
        + [({"fc_units": u}, None, acc) for u, acc in [(512, 0.9878), (1024, 0.9890), (2048, 0.9880), (4096, 0.9838)]]
        + [({"batch_size": b}, None, acc) for b, acc in [(64, 0.9884), (100, 0.9878), (256, 0.9845), (1024, 0.9832)]]
    )
    assert len(trials) == len(expected)
    for t, (change, epochs, acc) in zip(trials, expected):
        assert t.user_attrs["config"] == {**base, **change}
        assert t.user_attrs.get("epochs") == epochs
        assert t.value == pytest.approx(acc, rel=1e-12)
        assert t.user_attrs["structure"] == f"conv5x5[32,64]-fc[{t.user_attrs['config']['fc_units']}]-10"
    # the baseline's fc 512, batch 100 and second conv of 64 lie outside cnn-mnist's narrower space
    assert trials[0].user_attrs["outside_space"] == [
        "batch_size=100 (choices 32, 64, 128, 256)",
        "fc_units=512 (choices 64, 128, 256)",
        "weight_decay=0 ([1e-06, 0.001], log)",
        "channels_l1=64 (choices 8, 16, 32)",
    ]
    assert trials[0].params == {
        "lr": 0.001,
        "n_layers": 2,
        "kernel_size": 5,
        "activation": "relu",
        "init": "default",
        "optimizer": "adam",
        "dropout": 0.0,
        "batch_norm": False,
        "lr_schedule": "none",
        "augment": False,
        "channels_l0": 32,
    }


DIGITS_TABLE = """编号,学习率,批处理大小,网络结构,激活函数,验证集准确率(%),训练轮数,备注
1,0.01,64,"[64,32,10]",ReLU,91.5,3,ok
2,0.02,128,"[64,48,16,10]",tanh,,,not run yet
3,0.5,64,"[64,32,10]",relu,80,,lr too high
4,0.01,20,"[64,32,10]",relu,85,,
"""


@pytest.fixture
def digits_study(write_spec, tmp_path):
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}))
    (tmp_path / "hand.csv").write_text(DIGITS_TABLE, encoding="utf-8")
    return path


def test_rows_without_a_result_are_queued_and_run_trains_them_first(digits_study):
    result = invoke("import", "--study", digits_study, "--table", "hand.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Study 'tiny-digits': 4 row(s) read from hand.csv: 3 complete trial(s) "
        "added (trials 0-2); 1 queued for `autotune run` (trials 3)."
    )
    study = stored_study()
    assert [(t.number, t.state.name, t.value) for t in study.trials] == [
        (0, "COMPLETE", pytest.approx(0.915)),
        (1, "COMPLETE", pytest.approx(0.80)),
        (2, "COMPLETE", pytest.approx(0.85)),
        (3, "WAITING", None),
    ]
    assert study.trials[0].user_attrs["epochs"] == 3
    assert study.trials[1].user_attrs["outside_space"] == ["lr=0.5 ([0.001, 0.03], log)"]
    assert study.trials[2].user_attrs["outside_space"] == ["batch_size=20 (choices 64, 128)"]
    # the TPE sampler (3 start-up trials) models the next trial on the hand trials, parameters missing and all
    run = invoke("run", "--study", digits_study, "--trials", "5", "-q")
    assert run.exit_code == 0, run.output
    trials = stored_study().trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3 + ["COMPLETE", "COMPLETE"]
    queued = trials[3]
    assert queued.params == {
        "lr": 0.02,
        "batch_size": 128,
        "n_layers": 2,
        "activation": "tanh",
        "units_l0": 48,
        "units_l1": 16,
    }
    assert queued.user_attrs["source"] == "hand-queued" and queued.user_attrs["hand_row"] == 2
    assert queued.user_attrs["hand_record"] == {"remark": "not run yet"}  # the hand's own; autotune's is 'remark'
    assert queued.user_attrs["seed"] == trial_seed(7, 3) and queued.user_attrs["epochs"] == 3
    assert "source" not in trials[4].user_attrs  # sampled


def test_rerun_queues_every_row_that_fits_and_says_why_the_others_do_not(digits_study):
    assert invoke("import", "--study", digits_study, "--table", "hand.csv").exit_code == 0
    result = invoke("import", "--study", digits_study, "--table", "hand.csv", "--rerun")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Study 'tiny-digits': 4 row(s) read from hand.csv: 0 complete trial(s) "
        "added; 1 queued for `autotune run` (trials 4); 2 not queued; 1 already "
        "in the study (imported before; not added again)."
    )
    assert result.stdout.splitlines()[3:6] == [
        "Not queued (2 row(s); a queued trial can take only values the space holds):",
        "  lr 0.5 ([0.001, 0.03], log): 1 row(s), rows 3",
        "  batch_size 20 (choices 64, 128): 1 row(s), rows 4",
    ]
    waiting = [t for t in stored_study().trials if t.state.name == "WAITING"]
    # a queued trial's parameters wait in Optuna's fixed_params until `run` takes it
    assert [(t.number, t.user_attrs["hand_row"], t.system_attrs["fixed_params"]) for t in waiting] == [
        (3, 2, {"lr": 0.02, "batch_size": 128, "n_layers": 2, "activation": "tanh", "units_l0": 48, "units_l1": 16}),
        (4, 1, {"lr": 0.01, "batch_size": 64, "n_layers": 1, "activation": "relu", "units_l0": 32}),
    ]
    assert waiting[1].user_attrs["hand_record"] == {"remark": "ok", "val_accuracy": pytest.approx(0.915), "epochs": 3}


def test_a_hand_trial_outside_the_space_replays_with_its_own_values(digits_study):
    assert invoke("import", "--study", digits_study, "--table", "hand.csv").exit_code == 0
    again = autotune.replay(digits_study, trial=2, epochs=1)  # row 4: batch_size 20, not an Optuna parameter
    assert again.replay.config["batch_size"] == 20 and again.replay.config["units"] == [32]
    # no seed was recorded by hand, so nothing is compared exactly: the two values stand side by side, each named
    assert again.reproduction == (
        f"val_accuracy by hand (their budget): 85.00%; reproduced here (1 epoch(s), 1 seed): "
        f"{again.replay.mean('val_accuracy') * 100:.2f}%. Measured under two protocols (the "
        "table's budget and the spec's), so they are not compared as one configuration's "
        "seeds."
    )
    # hand rows are evidence of their own budget, never "the best": with nothing trained by autotune there is none
    with pytest.raises(
        TrialNotFoundError,
        match=r"^study 'tiny-digits' has no complete trial yet of autotune's own: "
        r"its 3 complete trial\(s\) are imported hand rows, measured with "
        r"their own training budget; run `autotune run` to search$",
    ):
        autotune.best_config(digits_study)


def test_a_multi_objective_study_takes_rows_only_with_rerun(write_spec, tmp_path):
    path = write_spec(tiny_digits_spec(objectives=["val_accuracy", "params"], pruner={"name": "none"}))
    (tmp_path / "hand.csv").write_text(DIGITS_TABLE, encoding="utf-8")
    with pytest.raises(
        OptionError,
        match=r"spec 'tiny-digits' has 2 objectives \(val_accuracy, params\); a hand "
        r"table records one result, so its rows cannot be complete trials: use --rerun",
    ):
        autotune.import_table(path, "hand.csv")
    assert not (tmp_path / "autotune.db").exists()
    result = autotune.import_table(path, "hand.csv", rerun=True)
    assert (result.added, result.queued) == (0, 2)


def test_import_into_a_stored_study_by_name(digits_study):
    assert invoke("run", "--study", digits_study, "--trials", "1", "-q").exit_code == 0
    result = invoke("import", "--study", "tiny-digits", "--table", "hand.csv")
    assert result.exit_code == 0, result.output
    assert [t.user_attrs.get("hand_row") for t in stored_study().trials] == [None, 1, 3, 4, 2]


def test_a_changed_spec_is_refused_and_points_to_warm_start(digits_study, write_spec):
    assert invoke("import", "--study", digits_study, "--table", "hand.csv").exit_code == 0
    other = write_spec(tiny_digits_spec(max_epochs=4), name="other.yaml")
    result = invoke("import", "--study", other, "--table", "hand.csv")
    assert_one_error_line(
        result,
        "study 'tiny-digits' in this storage was made from a different spec",
        "use --study-name to start a new study, and `autotune run --warm-start tiny-digits` to seed "
        "it with this study's finished trials that fit your spec",
    )
    assert len(optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db").trials) == 4


def test_the_report_marks_hand_trials_and_sets_them_against_autotunes(digits_study):
    assert invoke("import", "--study", digits_study, "--table", "hand.csv").exit_code == 0
    assert invoke("run", "--study", digits_study, "--trials", "5", "-q").exit_code == 0
    study = stored_study()
    auto = max(study.trials[3:], key=lambda t: t.value)
    epochs = sum(t.user_attrs["epochs"] for t in study.trials[3:])
    english = autotune.report(digits_study, out_dir="en")
    chinese = autotune.report(digits_study, out_dir="zh", lang="zh")
    assert "data/hand_vs_auto.json" in english.files
    md = Path("en", "report.md").read_text(encoding="utf-8")
    rows = [line for line in md.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [r.split(" | ")[0] for r in rows] == ["| 0 (hand)", "| 1 (hand)", "| 2 (hand)", "| 3", "| 4"]
    assert rows[2].split(" | ")[:3] == ["| 2 (hand)", "0.01", "20"]  # batch size 20 from the trial's config
    section = md.split("## By hand vs automated\n\n")[1].split("\n\n")[0].splitlines()
    assert section == [
        "- By hand: best val_accuracy 91.50% (hand.csv row 1, trial 0) of 3 imported rows with a result; epochs: 3.",
        f"- Automated: best val_accuracy {auto.value * 100:.2f}% (trial {auto.number}, 3 epochs) of 2 complete trials "
        f"autotune trained; {epochs} epochs trained in all.",
        f"- autotune's best is {abs(auto.value - 0.915) * 100:.2f} pp {'better' if auto.value > 0.915 else 'worse'} "
        "than the hand table's best.",
        "- The hand values were measured by the table's authors, on their own data split and budget; autotune's on "
        "this study's validation split with at most 3 epochs per trial: an indication, not a controlled comparison.",
    ]
    assert f"- Pruning: {epochs} epochs trained of 6 a no-pruning run would have used (saved 0%)" in md
    zh = Path("zh", "report.md").read_text(encoding="utf-8")
    assert "| 0（手工） |" in zh and "## 手工调参与自动搜索" in zh
    assert (
        "- 手工：3 行导入的有结果记录中，最优 val_accuracy 为 91.50%（hand.csv 第 1 行，试验 0）；训练轮数：3。" in zh
    )
    assert chinese.files == english.files
    html = Path("en", "index.html").read_text(encoding="utf-8")
    assert "<h2>By hand vs automated</h2>" in html and "<td>0 (hand)</td>" in html


def test_rerun_leaves_a_parameter_the_table_does_not_give_to_the_sampler_when_its_default_is_outside(no_data):
    # mlp-mnist searches weight_decay on a log range, which cannot hold the default 0: a rerun row that does not
    # state its weight decay is queued without it (TPE picks it) instead of being refused for it
    if not GRID.is_file():
        pytest.skip("the seed hand grid is not beside this checkout")
    result = invoke("import", "--study", "mlp-mnist", "--table", str(GRID), "--rerun")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Study 'mlp-mnist': 28 row(s) read from hand-grid-000.csv: 0 complete trial(s) added; 3 queued "
        "for `autotune run` (trials 0-2); 25 not queued."
    )
    assert (
        "weight_decay: no table value and the default (0) is outside the space; the sampler picks it for the 3 "
        "queued row(s) (rows 22, 25, 28)."
    ) in lines
    assert (
        "  batch_size 20, 50, 100, 120, 16, 32 (choices 64, 128, 256, 512): 25 row(s), rows 1-21, 23-24, 26-27" in lines
    )
    waiting = stored_study("mlp-mnist").get_trials()
    assert [t.user_attrs["hand_row"] for t in waiting] == [22, 25, 28]
    for t in waiting:
        fixed = t.system_attrs["fixed_params"]
        assert (
            "weight_decay" not in fixed and fixed["batch_size"] in (64, 128, 256, 512) and fixed["optimizer"] == "sgd"
        )


def test_hand_rows_are_kept_apart_as_evidence_in_run_confirm_export_and_replay(digits_study):
    """The new user's walk-through (#31, 1 and 4): hand rows were ranked against autotune's trials, called
    "overstated", exported as the best and silently used up --trials. Their values come from the student's own
    budget: they are marked, counted, and never compared with autotune's runs."""
    assert invoke("import", "--study", digits_study, "--table", "hand.csv").exit_code == 0  # hand rows: trials 0-2
    run = invoke("run", "--study", digits_study, "--trials", "6")
    assert run.exit_code == 0, run.output
    out = run.stdout.splitlines()
    assert (
        "3 of the 6 finished trials are imported hand rows; they count towards the 6, so autotune has trained 3 "
        "here; to train N trials of its own, pass --trials 3+N (e.g. --trials 9)."
    ) in out
    study = stored_study()
    own = [t for t in study.trials if t.user_attrs.get("source") != "hand" and t.state.name == "COMPLETE"]
    best = max(own, key=lambda t: (t.value, -t.number))
    assert f"Best val_accuracy {best.value:.2%} (trial {best.number}, one seed, autotune's trials only): " in "\n".join(
        out
    )
    confirmed = json.loads(invoke("confirm", "--study", "tiny-digits", "--top", "3", "--seeds", "2", "--json").stdout)
    assert {r["trial"] for r in confirmed["ranking"]} <= {t.number for t in own}
    assert confirmed["single_seed_best"] == best.number and confirmed["overstatement"]["trial"] == best.number
    assert confirmed["hand_rows"] == [0, 1, 2] and confirmed["lines"][1] == (
        "Note: 3 hand row(s) (trials 0, 1, 2) are not confirmed: their values come from their own training budget, not "
        "the spec's; `autotune replay --trial N` shows one reproduced at the spec's budget."
    )
    assert lines(confirmed, "zh")[1].startswith("注：3 行手工结果（试验 0, 1, 2）不参与复核")
    exported = json.loads(invoke("export", "--study", "tiny-digits", "--no-retrain", "--out", "e", "--json").stdout)
    assert exported["best"]["trial"] == confirmed["chosen_best"] and exported["best"]["trial"] not in (0, 1, 2)
    replay = json.loads(invoke("replay", "--study", "tiny-digits", "--trial", "0", "--epochs", "1", "--json").stdout)
    assert replay["notes"][0] == (
        "trial 0 is a hand row: its result (validation accuracy 91.50%) is the hand "
        "table's, by hand with their own training budget; this replay is autotune's "
        "reproduction at the spec's budget, a different protocol"
    )
    assert replay["reproduction"] == (
        f"val_accuracy by hand (their budget): 91.50%; reproduced here (1 epoch(s), 1 "
        f"seed): {replay['val_accuracy']['mean'] * 100:.2f}%. Measured under two "
        "protocols (the table's budget and the spec's), so they are not compared as one "
        "configuration's seeds."
    )


DIGITS_MARKDOWN = """Table 1: the same experiments, typed again as a Markdown table

| 编号 | 学习率 | 批处理大小 | 网络结构 | 激活函数 | 验证集准确率 | 训练轮数 | 备注 |
|---|---|---|---|---|---|---|---|
| 1 | 0.01 | 64 | [64,32,10] | relu | 91.50% | 3 | ok |
| 2 | 0.02 | 128 | [64,48,16,10] | tanh | | | not run yet |
| 3 | 0.5 | 64 | [64,32,10] | ReLU | 80% | | lr too high |
| 4 | 0.01 | 20 | [64,32,10] | relu | 85.0% | | |
"""


def test_the_same_table_in_another_format_is_found_by_content_and_not_counted_twice(digits_study, tmp_path):
    """#31, 7: importing the Markdown copy of an imported CSV added every row again (only a byte-identical
    re-import was recognised)."""
    assert invoke("import", "--study", digits_study, "--table", "hand.csv").exit_code == 0
    (tmp_path / "hand.md").write_text(DIGITS_MARKDOWN, encoding="utf-8")
    again = invoke("import", "--study", digits_study, "--table", "hand.md")
    assert again.exit_code == 0, again.output
    out = again.stdout.splitlines()
    assert out[0] == (
        "Study 'tiny-digits': 4 row(s) read from hand.md#1: 0 complete trial(s) added; 0 queued for "
        "`autotune run`; 4 the same as trials imported before (not added again)."
    )
    assert (
        "Warning: 4 row(s) (rows 1-4) hold the same configuration and result as trials 0-3, imported before "
        "(from any file or format): not added, so no experiment counts twice; --keep-duplicates adds them "
        "anyway."
    ) in out
    assert len(stored_study().trials) == 4
    kept = json.loads(
        invoke("import", "--study", digits_study, "--table", "hand.md", "--keep-duplicates", "--json").stdout
    )
    assert (kept["added"], kept["queued"], kept["same_as_imported"]) == (3, 1, 0)
    assert len(stored_study().trials) == 8


def test_a_repeated_experiment_within_one_table_is_kept(digits_study, tmp_path):
    """Two identical rows in one table are two runs of one experiment: a study that holds one of them takes the
    other; the rest of the table, imported before as Markdown, is not added again."""
    (tmp_path / "hand.md").write_text(DIGITS_MARKDOWN, encoding="utf-8")
    assert invoke("import", "--study", digits_study, "--table", "hand.md").exit_code == 0
    twice = DIGITS_TABLE + '5,0.01,64,"[64,32,10]",ReLU,91.5,3,ok\n'  # row 5 repeats row 1
    (tmp_path / "twice.csv").write_text(twice, encoding="utf-8")
    result = json.loads(invoke("import", "--study", digits_study, "--table", "twice.csv", "--json").stdout)
    assert (result["added"], result["queued"], result["same_as_imported"]) == (1, 0, 4)
    assert [r["action"] for r in result["rows"]] == ["same as imported"] * 4 + ["complete"]


def test_the_reports_own_trials_keep_their_numbers(digits_study):
    """The report's figures and hover texts name trials by number: the set that leaves the hand rows out must keep
    autotune's trials at their own numbers (a plain copy renumbered trials 3-6 as 0-3)."""
    from autotune.analysis.summary import complete, own_trials

    assert invoke("import", "--study", digits_study, "--table", "hand.csv").exit_code == 0  # trials 0-2, 3 queued
    assert invoke("run", "--study", digits_study, "--trials", "6", "-q").exit_code == 0
    study = stored_study()
    own = own_trials(study)
    mine = [t for t in complete(study) if t.user_attrs.get("source") != "hand"]
    assert [t.number for t in complete(own)] == [t.number for t in mine] == [3, 4, 5]
    assert [(t.values, t.params) for t in complete(own)] == [(t.values, t.params) for t in mine]
    assert [t.state.name for t in own.trials[:3]] == ["FAIL"] * 3 and own.trials[0].params == {}
