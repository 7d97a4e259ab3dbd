"""Reports from real digits studies, checked against the database; escaping; empty studies."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner

from autotune.cli.commands import cli
from tests.conftest import empty_study, invoke, md_cells, tiny_digits_spec, trials_of


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """One real study (16 trials, some pruned, at least 10 complete: enough for a contour) and its report,
    shared by the tests of this module."""
    import yaml

    folder = tmp_path_factory.mktemp("report")
    storage = f"sqlite:///{folder / 'autotune.db'}"
    spec = folder / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            tiny_digits_spec(
                space={
                    "lr": {"low": 1e-4, "high": 0.1, "log": True},
                    "n_layers": {"low": 1, "high": 2},
                    "units": [16, 64],
                    "activation": ["relu", "tanh"],
                },
                pruner={"name": "median", "n_startup_trials": 2, "n_warmup_steps": 0},
            )
        )
    )
    assert invoke("run", "--study", str(spec), "--trials", "16", "-q", "--storage", storage).exit_code == 0
    result = invoke("report", "--study", str(spec), "--out", str(folder / "rep"), "--json", "--storage", storage)
    assert result.exit_code == 0, result.output
    study = optuna.load_study(study_name="tiny-digits", storage=storage)
    from autotune.analysis.summary import MIN_CONTOUR_TRIALS

    assert sum(t.state.name == "COMPLETE" for t in study.trials) >= MIN_CONTOUR_TRIALS  # the contour tests need it
    return folder, json.loads(result.stdout), study, spec


def test_report_folder_contents(reported):
    folder, result, _, _ = reported
    files = set(result["files"])
    assert {
        "index.html",
        "report.md",
        "data/summary.json",
        "data/trials.csv",
        "data/importance.json",
        "data/learning_curves.json",
    } <= files
    for figure in (
        "optimization_history.png",
        "intermediate_values.png",
        "slice.png",
        "importance.png",
        "depth_width.png",
        "parallel_coordinate.png",
    ):
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
    # the best in percent, as the trial table and every other accuracy on the page
    assert (
        f"- Best val_accuracy in the search (one seed per trial): {study.best_value * 100:.2f}% (trial "
        f"{study.best_trial.number})"
    ) in md.splitlines()
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
    zh = invoke(
        "report",
        "--study",
        str(spec),
        "--out",
        str(folder / "rep-zh"),
        "--lang",
        "zh",
        "--format",
        "md",
        "--storage",
        f"sqlite:///{folder / 'autotune.db'}",
    )
    assert zh.exit_code == 0
    text = (folder / "rep-zh" / "report.md").read_text()
    assert "| 编号 | 学习率 | Batch Size | 网络结构 | 初始化方法 | 训练集Loss | 验证集准确率(%) |" in text
    assert not (folder / "rep-zh" / "index.html").exists()


# --------------------------------------------------------------------------------------
# The trial table and data/trials.csv, cell by cell against the trials as Optuna reads them from the database

#: The trial table's columns, in the seed reports' words (docs/commands-results.md, "autotune report").
TRIAL_HEADS = {
    "en": [
        "No.",
        "Learning rate",
        "Batch size",
        "Structure",
        "Initialisation",
        "Train loss",
        "Validation accuracy (%)",
        "State",
        "Remarks",
    ],
    "zh": ["编号", "学习率", "Batch Size", "网络结构", "初始化方法", "训练集Loss", "验证集准确率(%)", "状态", "备注"],
}
ZH_STATES = {"COMPLETE": "完成", "PRUNED": "已剪枝", "FAIL": "失败"}
_N = r"(?P<{}>[-+0-9.e%]+|nan|inf)"
#: A stored (English) remark of a classification trial under the median pruner, and its Chinese form.
ZH_REMARKS = [
    (r"diverged: non-finite loss in epoch (?P<e>\d+)", "发散：第 {e} 轮出现非有限的 Loss"),
    (
        r"pruned after epoch (?P<e>\d+): below the median of earlier trials at that epoch",
        "第 {e} 轮后被剪枝：低于之前的试验在同一轮的中位数",
    ),
    ("did not converge: validation accuracy " + _N.format("v"), "不收敛：验证集准确率 {v}"),
    (
        "overfitting: train {} vs validation {}, validation loss {} \\(best {}\\)".format(*map(_N.format, "tvlb")),
        "过拟合：训练集准确率 {t}，验证集准确率 {v}，验证集Loss {l}（最低 {b}）",
    ),
    (
        "overfitting: validation loss rose to {} from its best {} \\(train {} vs validation {}\\)".format(
            *map(_N.format, "lbtv")
        ),
        "过拟合：验证集Loss 从最低的 {b} 升至 {l}（训练集准确率 {t}，验证集准确率 {v}）",
    ),
    (
        "unstable: validation loss rose to {} \\(best {}\\) while training accuracy stayed at {}".format(
            *map(_N.format, "lbt")
        ),
        "不稳定：验证集Loss 升至 {l}（最低 {b}），训练集准确率保持在 {t}",
    ),
    (
        "slow convergence: still \\+{} pp in the last epoch, more epochs may help".format(_N.format("g")),
        "收敛慢：最后一轮验证集准确率仍提高 {g} 个百分点，增加轮数可能有帮助",
    ),
    ("converged: validation accuracy " + _N.format("v"), "已收敛：验证集准确率 {v}"),
]


def _zh_remark(text: str) -> str:
    """The Chinese remark the report promises for a stored English one (a remark of another kind fails)."""
    for pattern, chinese in ZH_REMARKS:
        match = re.fullmatch(pattern, text)
        if match:
            return chinese.format(**match.groupdict())
    raise AssertionError(f"no Chinese form known to this test for the remark {text!r}")


def _structure(t: optuna.trial.FrozenTrial) -> str:
    """[inputs, units of each hidden layer, classes] from the searched depth and widths (8×8 digits: 64 inputs,
    10 classes)."""
    widths = [t.params[f"units_l{i}"] for i in range(t.params["n_layers"])]
    return "[" + ",".join(map(str, [64, *widths, 10])) + "]"


def _expected_row(t: optuna.trial.FrozenTrial, lang: str) -> list[str]:
    """One row of the trial table, re-derived from the stored trial: the learning rate to 3 significant digits,
    the train loss to 4, the validation accuracy in percent with 2 decimals (a complete trial's value, a pruned
    one's last reported value), "-" for what the trial lacks, the structure from its depth and widths."""
    a = t.user_attrs
    structure = _structure(t)
    assert a["structure"] == structure
    accuracy = t.value if t.state.name == "COMPLETE" else t.intermediate_values[max(t.intermediate_values)]
    assert accuracy == a["val_accuracy"]
    return [
        str(t.number),
        format(t.params["lr"], ".3g"),
        str(t.params.get("batch_size", "-")),
        structure,
        str(t.params.get("init", "-")),
        "-" if a["train_loss"] is None else format(a["train_loss"], ".4g"),
        format(accuracy, ".2%").removesuffix("%"),
        t.state.name.lower() if lang == "en" else ZH_STATES[t.state.name],
        a["remark"] if lang == "en" else _zh_remark(a["remark"]),
    ]


class _Tables(HTMLParser):
    """Every <table> of a page: the <h2> above it, its class, its header cells and its body rows (cell text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._h2: str | None = None
        self._in_h2 = False
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._in_h2, self._h2 = True, ""
        elif tag == "table":
            self.tables.append({"h2": self._h2, "class": dict(attrs).get("class"), "heads": [], "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if table["heads"]:
                table["rows"].append(self._row)
            else:
                table["heads"] = self._row
            self._row = None

    def handle_data(self, data):
        if self._in_h2:
            self._h2 += data
        if self._cell is not None:
            self._cell.append(data)


def _html_table(page: str, heading: str) -> dict:
    """The one table under the <h2> ``heading``."""
    parser = _Tables()
    parser.feed(page)
    parser.close()
    (table,) = [t for t in parser.tables if t["h2"] == heading]
    return table


def _md_table(page: str, heading: str) -> tuple[list[str], list[list[str]]]:
    """The head and body cells of the one Markdown table in section ``## heading`` (``\\|`` unescaped)."""
    section = page.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    head, rule, *body = [md_cells(line) for line in lines]
    assert rule == ["---"] * len(head)
    return head, body


@pytest.fixture(scope="module")
def reported_zh(reported):
    """The ``reported`` study's report with ``--lang zh``, both pages."""
    folder, _, _, spec = reported
    result = invoke(
        "report",
        "--study",
        str(spec),
        "--out",
        str(folder / "table-zh"),
        "--lang",
        "zh",
        "--storage",
        f"sqlite:///{folder / 'autotune.db'}",
    )
    assert result.exit_code == 0, result.output
    return folder / "table-zh"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_trial_table_cells_match_the_database(reported, reported_zh, lang):
    """Both pages hold one trial table: every trial once, in trial-number order, each cell the stored value
    in the report's format, states and remarks in the report's language."""
    folder = reported[0]
    out = folder / "rep" if lang == "en" else reported_zh
    trials = trials_of(f"sqlite:///{folder / 'autotune.db'}")
    assert [t.number for t in trials] == list(range(16))
    assert {t.state.name for t in trials} == {"COMPLETE", "PRUNED"}  # both kinds of row are checked
    expected = [_expected_row(t, lang) for t in trials]
    heading = {"en": "Trials", "zh": "试验记录"}[lang]
    table = _html_table((out / "index.html").read_text(encoding="utf-8"), heading)
    assert table["class"] == "sortable" and table["heads"] == TRIAL_HEADS[lang]
    assert [row[0] for row in table["rows"]] == [row[0] for row in expected]  # all 16 trials, once each, in order
    for want, got in zip(expected, table["rows"], strict=True):
        assert got == want, f"index.html, trial {want[0]}"
    head, body = _md_table((out / "report.md").read_text(encoding="utf-8"), heading)
    assert head == TRIAL_HEADS[lang]
    assert [row[0] for row in body] == [row[0] for row in expected]
    for want, got in zip(expected, body, strict=True):
        assert got == want, f"report.md, trial {want[0]}"


#: data/trials.csv's columns, in this order: the trial table's fields at full precision, and more.
CSV_COLUMNS = [
    "number",
    "state",
    "source",
    "lr",
    "batch_size",
    "structure",
    "init",
    "train_loss",
    "val_accuracy",
    "val_loss",
    "value",
    "feasible",
    "remark",
]


def test_trials_csv_matches_the_database(reported):
    """data/trials.csv: one row per trial in trial-number order, every number exactly as stored (Python's
    shortest round-trip form, nothing rounded), an empty cell for what the trial lacks."""
    folder, _, _, _ = reported
    trials = trials_of(f"sqlite:///{folder / 'autotune.db'}")

    def cell(value) -> str:
        return "" if value is None else repr(value) if isinstance(value, float) else str(value)

    with open(folder / "rep" / "data" / "trials.csv", newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    assert header == CSV_COLUMNS
    assert [row[0] for row in rows] == [str(t.number) for t in trials]  # every trial once, by number
    for t, row in zip(trials, rows, strict=True):
        a = t.user_attrs
        assert row == [
            str(t.number),
            t.state.name.lower(),
            "",
            cell(t.params["lr"]),
            "",
            _structure(t),
            "",
            cell(a["train_loss"]),
            cell(a["val_accuracy"]),
            cell(a["val_loss"]),
            cell(t.values[0]),
            "True",
            a["remark"],
        ], f"trials.csv, trial {t.number}"
        assert float(row[CSV_COLUMNS.index("val_accuracy")]) == t.values[0]


def test_importance_side_by_side_with_spread(reported):
    from autotune.analysis import importance

    folder, _, study, _ = reported
    imp = json.loads((folder / "rep" / "data" / "importance.json").read_text())
    assert set(imp) == {"default", "fanova"}
    for values in imp.values():
        assert "error" not in values
    assert all(set(v) == {"mean", "std"} for v in imp["fanova"].values())
    # PED-ANOVA is the one resampled: the file holds the intervals a fresh computation gives, the table prints them
    n = len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE])
    assert n >= 10 and imp["default"] == json.loads(json.dumps(importance.importances(study)["default"]))
    md = (folder / "rep" / "report.md").read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in md.splitlines() if line.startswith("| ")}
    for param, value in imp["default"].items():
        low, high = value["interval"]
        assert 0 <= low <= high and f" | {value['mean']:.3f} | [{low:.3f}, {high:.3f}] | " in rows[param]
    assert f"bootstrap resamples of the {n} complete trials |" in md and f"30 resamples of {n} complete trials)." in md
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

    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_report.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
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
    from autotune.reporting.reports import _write_csv

    _write_csv(
        tmp_path / "t.csv",
        [{"number": 0, "param_units_l0": 64}, {"number": 1, "param_units_l0": 32, "param_units_l1": 16}],
    )
    assert (tmp_path / "t.csv").read_text().splitlines() == ["number,param_units_l0,param_units_l1", "0,64,", "1,32,16"]


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
    from autotune.reporting import interactive
    from autotune.reporting.reports import build_report
    from autotune.spec.study import parse_spec

    _, _, study, _ = reported
    spec = parse_spec(study.user_attrs["spec"])
    result = build_report(study, spec, out_dir=tmp_path / "rep", storage="test", formats=("md",))
    fragments = result["interactive"]
    assert set(fragments) == {
        "optimization_history.png",
        "intermediate_values.png",
        "slice.png",
        "parallel_coordinate.png",
        "contour.png",
        "importance.png",
    }
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

    code = (
        "import sys, autotune.cli.commands, autotune.reporting.reports, autotune.reporting.interactive; "
        "print('plotly' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_chinese_report_is_chinese_throughout(reported):
    """Titles, summary, states, remarks, analysis and best practice: no English sentence left (#18)."""
    from autotune.words import i18n

    folder, _, study, spec = reported
    result = invoke(
        "report",
        "--study",
        str(spec),
        "--out",
        str(folder / "zh"),
        "--lang",
        "zh",
        "--storage",
        f"sqlite:///{folder / 'autotune.db'}",
    )
    assert result.exit_code == 0, result.output
    for page in ((folder / "zh" / "report.md").read_text(), (folder / "zh" / "index.html").read_text()):
        # 16 trials are too few to call anything "best practice" (analysis.PRACTICE_MIN_TRIALS): leads to test
        n = len([t for t in study.trials if t.state.name == "COMPLETE"])
        for heading in (
            "实验报告：",
            "试验记录",
            "超参数重要性",
            "图表",
            "分析",
            f"值得验证的线索（基于 {n} 个完成试验：称为“最佳实践”至少需要 30 个，且两种重要性排名第一的参数相同）",
            "各状态的试验数：",
            "每一行比较的是",
        ):
            assert heading in page
        for english in (
            "Report:",
            "Trials by state",
            "Each line compares",
            "Best practice",
            "Best parameters",
            "Time spent",
            "Pruning:",
            "Hyperparameter importance",
            "## Trials",
            "complete trials",
            "Optimisation history",
            "Learning curves",
            "Slice plot",
            "Parallel coordinates",
            "Contour of",
            "Depth × width",
            "Time in",
        ):
            assert english not in page, english
        for t in study.trials:
            assert i18n.remark(t.user_attrs["remark"], "zh") in page
            assert t.user_attrs["remark"] not in page
    html = (folder / "zh" / "index.html").read_text()
    assert '<html lang="zh">' in html and '"Noto Sans CJK SC"' in html
    assert "<td>完成</td>" in html or "<td>已剪枝</td>" in html


def _table(**intervals):
    """A PED-ANOVA table in rank order with the given intervals, and fANOVA beside it (no intervals)."""
    means = dict(zip(intervals, (0.5, 0.3, 0.15, 0.05)))
    return {
        "val_accuracy": {
            "default": {p: {"mean": means[p], "std": None, "interval": i} for p, i in intervals.items()},
            "fanova": {p: {"mean": means[p], "std": 0.01} for p in intervals},
        }
    }


def test_neighbours_whose_bootstrap_intervals_overlap_are_flagged_in_the_table_and_under_it():
    from autotune.reporting.text import importance_tables
    from autotune.spec.study import parse_spec

    spec = parse_spec(tiny_digits_spec())
    table = _table(lr=[0.4, 0.6], units=[0.2, 0.35], dropout=[0.1, 0.25], init=[0.0, 0.1])
    (en,) = importance_tables(spec, table, "en", n_complete=20)
    assert en["heads"] == [
        "parameter",
        "PED-ANOVA rank (≈ ranks whose interval overlaps)",
        "default (PED-ANOVA, one deterministic run)",
        "PED-ANOVA interval: 2.5–97.5 percentiles over 30 bootstrap resamples of the 20 complete trials",
        "fanova (mean ± std over 3 evaluator seeds; no bootstrap: it would nearly double the report's time)",
    ]
    assert en["body"] == [
        ["lr", "1", "0.500", "[0.400, 0.600]", "0.500 ± 0.010"],
        ["units", "2 (≈ 3)", "0.300", "[0.200, 0.350]", "0.300 ± 0.010"],
        ["dropout", "3 (≈ 2, 4)", "0.150", "[0.100, 0.250]", "0.150 ± 0.010"],
        ["init", "4 (≈ 3)", "0.050", "[0.000, 0.100]", "0.050 ± 0.010"],
    ]
    assert en["lines"] == [
        "Ranks 2 and 3 (units, dropout), ranks 3 and 4 (dropout, init) cannot be told apart: "
        "their bootstrap intervals overlap (PED-ANOVA, 30 resamples of 20 complete trials)."
    ]
    (zh,) = importance_tables(spec, table, "zh", n_complete=20)
    assert zh["lines"] == [
        "第 2 与第 3 名（units、dropout），第 3 与第 4 名（dropout、init）无法区分：其 bootstrap 区间"
        "相互重叠（PED-ANOVA，对 20 个完成试验重抽样 30 次）。"
    ]
    tied = _table(lr=[0.3, 0.6], units=[0.2, 0.35], dropout=[0.1, 0.25])  # every neighbour overlaps: said once
    (en,) = importance_tables(spec, tied, "en", n_complete=36)
    assert [row[1] for row in en["body"]] == ["1 (≈ 2)", "2 (≈ 1, 3)", "3 (≈ 2)"]
    assert en["lines"] == [
        "No two neighbours in the PED-ANOVA ranking can be told apart: the bootstrap intervals "
        "of every pair of adjacent ranks overlap (30 resamples of 36 complete trials)."
    ]
    apart = _table(lr=[0.4, 0.6], units=[0.2, 0.35])
    (en,) = importance_tables(spec, apart, "en", n_complete=20)
    assert [row[1] for row in en["body"]] == ["1", "2"]
    assert en["lines"] == [
        "No two neighbours in the PED-ANOVA ranking have overlapping bootstrap intervals "
        "(30 resamples of 20 complete trials)."
    ]


def test_too_few_trials_for_an_interval_prints_none():
    from autotune.reporting.text import importance_tables
    from autotune.spec.study import parse_spec

    spec = parse_spec(tiny_digits_spec())
    (en,) = importance_tables(spec, _table(lr=None, units=None), "en", n_complete=9)
    assert en["heads"] == [
        "parameter",
        "default (PED-ANOVA, one deterministic run)",
        "fanova (mean ± std over 3 evaluator seeds; no bootstrap: it would nearly double the report's time)",
    ]
    assert en["body"] == [["lr", "0.500", "0.500 ± 0.010"], ["units", "0.300", "0.300 ± 0.010"]]
    assert en["lines"] == [
        "Too few trials for an interval: 9 complete trials, 10 needed for a bootstrap interval "
        "of the PED-ANOVA importance."
    ]
    (zh,) = importance_tables(spec, _table(lr=None, units=None), "zh", n_complete=9)
    assert zh["lines"] == [
        "试验太少，无法给出区间：只有 9 个完成试验，PED-ANOVA 重要性的 bootstrap 区间至少需要 10 个。"
    ]


def _lr_study(n: int) -> optuna.Study:
    """``n`` complete trials whose value lr alone moves (activation adds 0.01 or nothing)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    dists = {"lr": FloatDistribution(1e-3, 3e-2, log=True), "activation": CategoricalDistribution(["relu", "tanh"])}
    study = optuna.create_study(direction="maximize")
    for i in range(n):
        lr, act = 1e-3 * 1.3**i, ("relu", "tanh")[i % 2]
        study.add_trial(
            optuna.trial.create_trial(
                params={"lr": lr, "activation": act},
                distributions=dists,
                value=0.5 + 10 * lr + 0.01 * (i % 2),
                intermediate_values={3: 0.5},
                user_attrs={"epochs": 3},
            )
        )
    return study


def test_a_report_of_too_few_complete_trials_prints_no_interval(tmp_path):
    from autotune.reporting.reports import build_report
    from autotune.spec.study import parse_spec

    build_report(
        _lr_study(9), parse_spec(tiny_digits_spec()), out_dir=tmp_path / "rep", storage="memory", formats=("md",)
    )
    imp = json.loads((tmp_path / "rep" / "data" / "importance.json").read_text())
    assert [v["interval"] for v in imp["default"].values()] == [None, None]
    md = (tmp_path / "rep" / "report.md").read_text()
    assert (
        "| parameter | default (PED-ANOVA, one deterministic run) | fanova (" in md
        and "[" not in md.split("## Hyperparameter importance")[1].split("## Figures")[0]
    )
    assert (
        "Too few trials for an interval: 9 complete trials, 10 needed for a bootstrap interval of the PED-ANOVA "
        "importance."
    ) in md


def test_a_report_of_enough_complete_trials_prints_bootstrap_intervals(tmp_path):
    from autotune.analysis import importance
    from autotune.reporting.reports import build_report
    from autotune.spec.study import parse_spec

    study = _lr_study(12)
    spec = parse_spec(tiny_digits_spec())
    result = build_report(study, spec, out_dir=tmp_path / "rep", storage="memory", formats=("md",))
    imp = json.loads((tmp_path / "rep" / "data" / "importance.json").read_text())
    again = importance.importances(study)
    assert imp["default"] == json.loads(json.dumps(again["default"]))  # the file holds exactly the intervals
    assert all(len(v["interval"]) == 2 for v in imp["default"].values())
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| parameter | PED-ANOVA rank (≈ ranks whose interval overlaps) |" in md
    assert "bootstrap resamples of the 12 complete trials |" in md
    # lr alone moves the value: its interval lies above activation's, and the report says the two are told apart
    assert imp["default"]["lr"]["interval"][0] > imp["default"]["activation"]["interval"][1]
    assert (
        "No two neighbours in the PED-ANOVA ranking have overlapping bootstrap intervals (30 resamples of 12 "
        "complete trials)."
    ) in md
    # the interactive version draws the same intervals, under the PNG's title
    fragment = result["interactive"]["importance.png"]
    assert json.dumps("error bar: 2.5–97.5 percentiles over 30 bootstrap resamples")[1:-1] in fragment
    for low, high in (v["interval"] for v in imp["default"].values()):
        assert f"{low!r},{high!r},null" in fragment.replace(" ", "")
    build_report(study, spec, out_dir=tmp_path / "zh", storage="memory", formats=("md",), lang="zh")
    assert "对 12 个完成试验做 30 次 bootstrap 重抽样的 2.5–97.5 百分位" in (tmp_path / "zh" / "report.md").read_text()


def test_the_set_up_says_which_trials_trained_with_the_fused_step():
    from autotune.reporting.text import environment_text

    env = {"version": "0.1.0", "runs": [(("cpu", 1, "fp32", "fused"), 3), (("cpu", 1, "fp32", "plain"), 2)]}
    assert environment_text(env, "en") == (
        "autotune 0.1.0; 3 trial(s) trained on cpu with 1 torch thread(s) in fp32 with the fused training step; "
        "2 trial(s) trained on cpu with 1 torch thread(s) in fp32"
    )
    assert environment_text(env, "zh") == (
        "autotune 0.1.0；3 个试验在 cpu 上训练，1 个 torch 线程，精度 fp32，融合训练步骤；"
        "2 个试验在 cpu 上训练，1 个 torch 线程，精度 fp32"
    )
