"""Reports from real digits studies, checked against the database; escaping; empty studies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner

from autotune.cli import cli
from tests.conftest import empty_study, tiny_digits_spec


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """One real study (16 trials, some pruned, at least 10 complete: enough for a contour) and its report,
    shared by the tests of this module."""
    import yaml

    folder = tmp_path_factory.mktemp("report")
    storage = f"sqlite:///{folder / 'autotune.db'}"
    spec = folder / "spec.yaml"
    spec.write_text(yaml.safe_dump(tiny_digits_spec(
        space={"lr": {"low": 1e-4, "high": 0.1, "log": True}, "n_layers": {"low": 1, "high": 2},
               "units": [16, 64], "activation": ["relu", "tanh"]},
        pruner={"name": "median", "n_startup_trials": 2, "n_warmup_steps": 0})))
    assert invoke("run", "--study", str(spec), "--trials", "16", "-q", "--storage", storage).exit_code == 0
    result = invoke("report", "--study", str(spec), "--out", str(folder / "rep"), "--json", "--storage", storage)
    assert result.exit_code == 0, result.output
    study = optuna.load_study(study_name="tiny-digits", storage=storage)
    from autotune.analysis import MIN_CONTOUR_TRIALS

    assert sum(t.state.name == "COMPLETE" for t in study.trials) >= MIN_CONTOUR_TRIALS  # the contour tests need it
    return folder, json.loads(result.stdout), study, spec


def test_report_folder_contents(reported):
    folder, result, _, _ = reported
    files = set(result["files"])
    assert {"index.html", "report.md", "data/summary.json", "data/trials.csv", "data/importance.json",
            "data/learning_curves.json"} <= files
    for figure in ("optimization_history.png", "intermediate_values.png", "slice.png", "importance.png",
                   "depth_width.png", "parallel_coordinate.png"):
        assert figure in result["figures"] and (folder / "rep" / figure).stat().st_size > 1000
    html = (folder / "rep" / "index.html").read_text()
    # opens offline: no CDN, nothing fetched. The page embeds plotly.js (whose source names URLs it would
    # fetch only for maps) and the figures' scripts inline; outside those, no URL at all
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert all("src" not in attributes for attributes, _ in scripts)
    assert any("Plotly" in body for _, body in scripts) and "plotly-graph-div" in html
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert "http://" not in markup and "https://" not in markup


def test_summary_matches_the_database(reported):
    folder, _, study, _ = reported
    summary = json.loads((folder / "rep" / "data" / "summary.json").read_text())
    assert summary["best_value"] == study.best_value and summary["best_trial"] == study.best_trial.number
    assert summary["best_params"] == study.best_params
    states = {}
    for t in study.trials:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    assert summary["states"] == states
    assert summary["epochs_trained"] == sum(t.user_attrs["epochs"] for t in study.trials)
    assert summary["epochs_without_pruning"] == 3 * len(study.trials)
    assert summary["time_s"]["trials"] == len(study.trials)  # every trial records where its time went
    assert summary["time_s"]["train"] == round(sum(t.user_attrs["time_s"]["train"] for t in study.trials), 1)
    md = (folder / "rep" / "report.md").read_text()
    (line,) = [x for x in md.splitlines() if x.startswith("- Time in ")]  # parts largest first: order varies
    assert line.startswith(f"- Time in {len(study.trials)} timed trial(s), {summary['time_s']['total']:.1f} s: ")
    assert all(f"{part} " in line for part in ("build", "train", "evaluate", "storage", "artifacts", "other"))


def test_trial_table_rows_and_languages(reported):
    folder, _, study, spec = reported
    md = (folder / "rep" / "report.md").read_text()
    assert "| No. | Learning rate | Batch size | Structure | Initialisation | Train loss |" in md
    for t in study.trials:
        assert f"| {t.number} | " in md and t.user_attrs["structure"] in md
    html = (folder / "rep" / "index.html").read_text()
    assert html.count("<tr><td>") >= len(study.trials)
    assert 'class="sortable"' in html
    zh = invoke("report", "--study", str(spec), "--out", str(folder / "rep-zh"), "--lang", "zh", "--format", "md",
                "--storage", f"sqlite:///{folder / 'autotune.db'}")
    assert zh.exit_code == 0
    text = (folder / "rep-zh" / "report.md").read_text()
    assert "| 编号 | 学习率 | Batch Size | 网络结构 | 初始化方法 | 训练集Loss | 验证集准确率(%) |" in text
    assert not (folder / "rep-zh" / "index.html").exists()


def test_importance_side_by_side_with_spread(reported):
    folder, _, _, _ = reported
    imp = json.loads((folder / "rep" / "data" / "importance.json").read_text())
    assert set(imp) == {"default", "fanova"}
    for values in imp.values():
        assert "error" not in values
        assert all(set(v) == {"mean", "std"} for v in values.values())
    md = (folder / "rep" / "report.md").read_text()
    assert "## Analysis" in md and "difference" in md


def test_hostile_names_are_escaped(write_spec):
    path = write_spec(tiny_digits_spec(description="<img src=x onerror=alert(1)>"))
    name = "<script>alert(1)</script>"  # study names are free text in Optuna: escape them everywhere
    empty_study(path, name=name)
    result = invoke("report", "--study", path, "--study-name", name, "--out", "hostile")
    assert result.exit_code == 0, result.output
    html = Path("hostile/index.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_empty_study_still_renders_with_a_note(write_spec):
    path = write_spec(tiny_digits_spec())
    empty_study(path)
    result = CliRunner().invoke(cli, ["report", "--study", path, "--out", "empty"])
    assert result.exit_code == 0
    assert "Note: The study has no trials yet." in result.stderr
    assert "The study has no trials yet." in Path("empty/index.html").read_text()


def test_unknown_study_is_one_error(write_spec):
    path = write_spec(tiny_digits_spec())
    invoke("run", "--study", path, "--trials", "1", "-q")
    result = CliRunner().invoke(cli, ["report", "--study", path, "--study-name", "nope", "--out", "x"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no study 'nope' in storage 'sqlite:///autotune.db'"
    assert not Path("x").exists()


@pytest.mark.slow
def test_report_benchmark_quick_mode_is_well_formed():
    import subprocess
    import sys

    from tests.conftest import REPO

    out = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_report.py"), "--quick"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["baseline"]["trials"], result["large"]["trials"]) == (20, 100)
    assert result["large"]["figures"] == 7 and result["large"]["report_s"] > 0
    assert result["ratio_time"] == round(result["large"]["report_s"] / result["baseline"]["report_s"], 2)


def test_study_with_only_failed_trials_renders_a_note(write_spec):
    path = write_spec(tiny_digits_spec())
    study = empty_study(path)
    for _ in range(2):
        study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    result = CliRunner().invoke(cli, ["report", "--study", path, "--out", "failed", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "The study has no complete trial: no best value, importance or analysis." in out["notes"]
    assert out["figures"] == []
    summary = json.loads(Path("failed/data/summary.json").read_text())
    assert summary["states"] == {"FAIL": 2} and summary["best_value"] is None
    assert "fail 2" in Path("failed/report.md").read_text()


def test_csv_rows_with_different_conditional_parameters_keep_every_column(tmp_path):
    from autotune.reports import _write_csv

    _write_csv(tmp_path / "t.csv", [{"number": 0, "param_units_l0": 64}, {"number": 1, "param_units_l0": 32,
                                                                         "param_units_l1": 16}])
    assert (tmp_path / "t.csv").read_text().splitlines() == ["number,param_units_l0,param_units_l1", "0,64,",
                                                             "1,32,16"]


def test_contour_caption_names_the_numeric_parameters_it_draws(reported):
    folder, result, _, _ = reported
    md = (folder / "rep" / "report.md").read_text()
    numeric = {"lr", "n_layers"}  # units and activation are choices: a contour would interpolate across them
    assert "contour.png" in result["figures"]
    caption = next(line for line in md.splitlines() if "contour.png" in line)
    assert "the two most important numeric parameters by fANOVA" in caption
    assert all(name in caption for name in numeric)


def test_slice_data_holds_the_pruned_trials_at_the_common_epoch(reported):
    folder, _, study, _ = reported
    points = json.loads((folder / "rep" / "data" / "slice.json").read_text())
    pruned = {t.number for t in study.trials if t.state.name == "PRUNED"}
    assert pruned and points["epoch"] is not None
    lr = {number: (value, is_pruned) for _, value, number, is_pruned in points["params"]["lr"]}
    assert {n for n, (_, is_pruned) in lr.items() if is_pruned} == pruned
    for n in pruned:
        assert lr[n][0] == study.trials[n].intermediate_values[points["epoch"]]


def test_interactive_figures_are_offline_fragments_beside_each_png(reported, tmp_path):
    from autotune import interactive
    from autotune.reports import build_report
    from autotune.spec import parse_spec

    _, _, study, _ = reported
    spec = parse_spec(study.user_attrs["spec"])
    result = build_report(study, spec, out_dir=tmp_path / "rep", storage="test", formats=("md",))
    fragments = result["interactive"]
    assert set(fragments) == {"optimization_history.png", "intermediate_values.png", "slice.png",
                              "parallel_coordinate.png", "contour.png", "importance.png"}
    assert set(fragments) <= set(result["figures"])
    for name, fragment in fragments.items():
        assert fragment.lstrip().startswith("<div") and fragment.rstrip().endswith("</div>"), name
        assert "<script src" not in fragment and "http://" not in fragment and "https://" not in fragment, name
        assert "lr" in fragment, name
    for param in ("lr = ", "n_layers = ", "activation = "):  # hovering a trial shows its parameters
        assert param in fragments["slice.png"] and param in fragments["optimization_history.png"]
    assert "pruned (value at epoch" in fragments["slice.png"]
    assert "val_accuracy (%)" in fragments["contour.png"]
    zh = interactive.figures(study, spec, ranked_params=["lr", "n_layers"], lang="zh")
    assert json.dumps("试验编号")[1:-1] in zh["optimization_history.png"]  # plotly writes \u escapes
    js = interactive.plotly_js()
    assert len(js) > 1_000_000 and "Plotly" in js


def test_the_command_line_starts_without_plotly():
    import subprocess
    import sys

    code = "import sys, autotune.cli, autotune.reports, autotune.interactive; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_chinese_report_is_chinese_throughout(reported):
    """Titles, summary, states, remarks, analysis and best practice: no English sentence left (#18)."""
    from autotune import i18n

    folder, _, study, spec = reported
    result = invoke("report", "--study", str(spec), "--out", str(folder / "zh"), "--lang", "zh",
                    "--storage", f"sqlite:///{folder / 'autotune.db'}")
    assert result.exit_code == 0, result.output
    for page in ((folder / "zh" / "report.md").read_text(), (folder / "zh" / "index.html").read_text()):
        for heading in ("实验报告：", "试验记录", "超参数重要性", "图表", "分析", "最佳实践（基于本次试验）",
                        "各状态的试验数：", "每一行比较的是"):
            assert heading in page
        for english in ("Report:", "Trials by state", "Each line compares", "Best practice", "Best parameters",
                        "Time spent", "Pruning:", "Hyperparameter importance", "## Trials", "complete trials",
                        "Optimisation history", "Learning curves", "Slice plot", "Parallel coordinates", "Contour of",
                        "Depth × width", "Time in"):
            assert english not in page, english
        for t in study.trials:
            assert i18n.remark(t.user_attrs["remark"], "zh") in page
            assert t.user_attrs["remark"] not in page
    html = (folder / "zh" / "index.html").read_text()
    assert '<html lang="zh">' in html and '"Noto Sans CJK SC"' in html
    assert "<td>完成</td>" in html or "<td>已剪枝</td>" in html
