"""Word documents: `autotune report --format docx` and the tables alone (`ablate`, `confirm --docx`), from a real
digits study, opened with python-docx and converted to PDF by a real LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docx
import optuna
import pytest
from docx.oxml.ns import qn

import autotune
from autotune.reporting import report_page
from tests.conftest import assert_one_error_line, finished_study, invoke, md_cells, tiny_digits_spec

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def studied(tmp_path_factory):
    """One real study (8 trials), confirmed (top 2, 2 seeds) and ablated in both languages, then reported as
    Markdown and Word in both languages."""
    folder = finished_study(
        tmp_path_factory.mktemp("documents"),
        tiny_digits_spec(
            space={"lr": {"low": 1e-3, "high": 0.1, "log": True}, "units": [16, 32], "activation": ["relu", "tanh"]}
        ),
        "--trials",
        "8",
    )
    storage, spec = f"sqlite:///{folder / 'autotune.db'}", folder / "spec.yaml"
    common = ["--study", str(spec), "--storage", storage]
    confirmed = invoke(
        "confirm", *common, "--top", "2", "--seeds", "2", "--docx", str(folder / "confirm-zh.docx"), "--lang", "zh"
    )
    assert confirmed.exit_code == 0, confirmed.output
    for lang in ("en", "zh"):
        ablated = invoke("ablate", *common, "--seeds", "2", "--lang", lang, "--out", str(folder / f"abl-{lang}"))
        assert ablated.exit_code == 0, ablated.output
        for fmt in ("all", "docx"):
            result = invoke(
                "report", *common, "--lang", lang, "--format", fmt, "--out", str(folder / f"rep-{lang}-{fmt}")
            )
            assert result.exit_code == 0, result.output
    return folder, storage, spec


def md_tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text, as rows of cells (header first, the separator left out)."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = md_cells(line)
            if not all(set(c) <= {"-"} for c in cells):
                current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def docx_tables(path: Path) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in docx.Document(str(path)).tables]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_document_holds_the_reports_tables_cell_for_cell(studied, lang):
    folder, _, _ = studied
    rep = folder / f"rep-{lang}-all"
    markdown = md_tables((rep / "report.md").read_text(encoding="utf-8"))
    word = docx_tables(rep / "report.docx")
    # set-up first; then every table of report.md (confirmation, trials, importance), each equal cell for cell,
    # and the ablation table exactly as `autotune ablate` wrote it in this language
    assert word[0][0] == (["item", "setting"] if lang == "en" else ["项目", "设置"])
    items = {
        "en": ["Study", "Data", "Model", "Goal", "Search space", "Fixed", "Budget", "Seeds", "Environment"],
        "zh": ["研究", "数据", "模型", "目标", "搜索空间", "固定参数", "预算", "随机种子", "运行环境"],
    }[lang]
    assert [row[0] for row in word[0][1:]] == items
    # where the trials ran, as each recorded it (device, threads, precision), and the version that made the study
    assert word[0][9][1] == (
        f"autotune {autotune.__version__}; 8 trial(s) trained on cpu with 1 torch thread(s) in fp32"
        if lang == "en"
        else f"autotune {autotune.__version__}；8 个试验在 cpu 上训练，1 个 torch 线程，精度 fp32"
    )
    assert word[0][7][1] == (
        "8 trials, at most 3 epochs each; sampler tpe; pruner median; precision fp32"
        if lang == "en"
        else "8 个试验，每个最多 3 轮；采样器 tpe；剪枝器 median；精度 fp32"
    )
    for table in markdown:
        assert table in word, table[0]
    trials = next(t for t in word if t[0][0] == ("No." if lang == "en" else "编号"))
    assert len(trials) == 1 + 8 and [row[0] for row in trials[1:]] == [str(n) for n in range(8)]
    ablation = md_tables((folder / f"abl-{lang}" / "ablation.md").read_text(encoding="utf-8"))[0]
    assert ablation in word
    assert [t for t in word if t not in markdown and t != ablation] == [word[0]]  # nothing else: set-up only


def test_the_document_has_figures_with_numbered_captions_and_the_analysis(studied):
    folder, _, _ = studied
    document = docx.Document(str(folder / "rep-en-all" / "report.docx"))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    tables = [c for c in captions if c.startswith("Table ")]
    figures = [c for c in captions if c.startswith("Figure ")]
    assert [c.split(".")[0] for c in tables] == [f"Table {i}" for i in range(1, len(tables) + 1)]
    assert [c.split(".")[0] for c in figures] == [f"Figure {i}" for i in range(1, len(figures) + 1)]
    pictures = document.inline_shapes
    report = (folder / "rep-en-all" / "report.md").read_text()
    assert len(pictures) == len(figures) == report.count("![") >= 5
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["Set-up", "Results in brief", "Trials"]
    assert {"Confirmation over seeds", "Ablation", "Figures", "Analysis"} <= set(headings)
    assert tables[1] == "Table 2. Every trial in the seed reports' table form (8 trials)"
    texts = [p.text for p in document.paragraphs]
    for line in re.findall(r"^- (.+)$", report.split("## Analysis")[1], flags=re.M):  # the analysis, word for word
        assert line in texts


def test_the_chinese_document_is_chinese_and_names_its_east_asian_fonts(studied):
    folder, _, _ = studied
    document = docx.Document(str(folder / "rep-zh-docx" / "report.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading") or p.style.name == "Title"]
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    heads = [cell.text for table in document.tables for cell in table.rows[0].cells]
    for text in headings + captions + heads:
        # every heading, caption and column header is Chinese (names of parameters and metrics aside)
        words = re.sub(
            r"tiny-digits|val_accuracy|val_loss|train_loss|fANOVA|PED-ANOVA|Batch Size|Loss|lr|units|"
            r"activation|data/trials\.csv|Holm|bootstrap",
            "",
            text,
        )
        assert (CJK.search(text) or not words.strip()) and not re.search(r"[A-Za-z]{3,}", words), text
    assert headings[:4] == ["实验报告：tiny-digits", "实验设置", "结果概要", "试验记录"]
    runs = [run for p in document.paragraphs for run in p.runs]
    runs += [
        run for t in document.tables for row in t.rows for cell in row.cells for p in cell.paragraphs for run in p.runs
    ]
    runs = [run for run in runs if run.text]  # a picture's run holds no text
    assert runs and all(run._r.rPr.rFonts.get(qn("w:eastAsia")) in ("SimSun", "SimHei") for run in runs)
    normal = document.styles["Normal"].element.rPr
    assert normal.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"


def test_long_tables_repeat_their_header_and_a_large_study_lists_its_best(studied, monkeypatch, tmp_path):
    folder, storage, spec = studied
    document = docx.Document(str(folder / "rep-en-docx" / "report.docx"))
    for table in document.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    monkeypatch.setattr(report_page, "DOCX_MAX_TRIALS", 3)
    result = invoke("report", "--study", str(spec), "--storage", storage, "--format", "docx", "--out", "top")
    assert result.exit_code == 0, result.output
    document = docx.Document("top/report.docx")
    trials = next(t for t in document.tables if t.rows[0].cells[0].text == "No.")
    study = optuna.load_study(study_name="tiny-digits", storage=storage)
    best3 = sorted(t.number for t in sorted(study.trials, key=lambda t: -(t.value if t.value is not None else -1))[:3])
    assert [row.cells[0].text for row in trials.rows[1:]] == [str(n) for n in best3]
    assert "Table 2. The 3 best of 8 trials by val_accuracy, in trial order; every trial is in data/trials.csv" in [
        p.text for p in document.paragraphs
    ]


def test_ablate_and_confirm_write_their_table_alone(studied):
    folder, _, _ = studied
    assert docx_tables(folder / "abl-zh" / "ablation.docx") == md_tables(
        (folder / "abl-zh" / "ablation.md").read_text(encoding="utf-8")
    )
    confirm = docx_tables(folder / "confirm-zh.docx")
    report = docx_tables(folder / "rep-zh-docx" / "report.docx")
    assert len(confirm) == 1 and confirm[0] in report and confirm[0][0][0] == "排名"


def test_the_api_returns_the_documents_path(studied):
    import autotune

    folder, storage, spec = studied
    result = autotune.report(str(spec), storage=storage, out_dir="api", formats=("docx",))
    assert result.document == str(Path("api") / "report.docx") and Path(result.document).is_file()
    assert result.to_dict()["document"] == result.document
    assert "index.html" not in result.files and "report.docx" in result.files
    assert autotune.report(str(spec), storage=storage, out_dir="md", formats=("md",)).document is None


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--format", "pdf"], ["'--format'", "'pdf' is not one of 'html', 'md', 'both', 'docx', 'all'"]),
        (["--lang", "fr"], ["'--lang'", "'fr' is not one of 'en', 'zh'"]),
        (["--out", "a-file"], ["Invalid value for '--out': Directory 'a-file' is a file."]),
    ],
)
def test_bad_report_options_get_one_error_line_and_nothing_is_written(studied, args, fragments):
    _, storage, spec = studied
    Path("a-file").write_text("")
    before = sorted(p.name for p in Path(".").iterdir())
    result = invoke("report", "--study", str(spec), "--storage", storage, "--format", "docx", *args)
    assert_one_error_line(result, *fragments)
    assert sorted(p.name for p in Path(".").iterdir()) == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"formats": ("pdf",)}, "formats 'pdf' is not a report format; allowed: html, md, docx; nothing was written"),
        ({"formats": ()}, "formats is empty; allowed: html, md, docx; nothing was written"),
        ({"lang": "fr"}, "lang 'fr' is not a report language; allowed: en, zh; nothing was written"),
    ],
)
def test_the_api_refuses_a_bad_format_or_language_before_writing(studied, kwargs, message):
    import autotune
    from autotune.errors import OptionError

    _, storage, spec = studied
    with pytest.raises(OptionError) as err:
        autotune.report(str(spec), storage=storage, out_dir="never", **kwargs)
    assert str(err.value) == message and not Path("never").exists()


@pytest.mark.parametrize(
    "path, problem",
    [
        ("table.doc", "its name must end in .docx"),
        ("missing/table.docx", "its folder 'missing' does not exist"),
    ],
)
def test_confirm_refuses_a_docx_path_it_cannot_write_before_training(studied, path, problem):
    _, storage, spec = studied
    study = optuna.load_study(study_name="tiny-digits", storage=storage)
    before = study.user_attrs["confirmation"]
    result = invoke("confirm", "--study", str(spec), "--storage", storage, "--top", "2", "--seeds", "3", "--docx", path)
    assert_one_error_line(result, f"cannot write docx '{path}': {problem}; nothing was written")
    assert optuna.load_study(study_name="tiny-digits", storage=storage).user_attrs["confirmation"] == before
    assert list(Path(".").iterdir()) == []


def libreoffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("needs LibreOffice (apt-get install libreoffice-writer)")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_libreoffice_converts_the_document_to_pdf(studied, lang, tmp_path):
    folder, _, _ = studied
    office = libreoffice()
    source = folder / f"rep-{lang}-docx" / "report.docx"
    done = subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    pdf = tmp_path / "report.pdf"
    assert done.returncode == 0 and pdf.is_file(), done.stdout + done.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert ("Set-up" if lang == "en" else "实验设置") in text and "tiny-digits" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    if lang == "zh":  # the Chinese characters were drawn with a CJK font, not as empty boxes
        assert "CJK" in fonts and "表 1" in text.replace("表1", "表 1")


def test_an_ablation_on_a_smaller_budget_says_so_beside_its_table(studied, tmp_path):
    import shutil as sh

    folder, _, spec = studied
    sh.copy(folder / "autotune.db", tmp_path / "copy.db")
    storage = f"sqlite:///{tmp_path / 'copy.db'}"
    assert (
        invoke(
            "ablate", "--study", str(spec), "--storage", storage, "--seeds", "2", "--epochs", "1", "--out", "abl"
        ).exit_code
        == 0
    )
    assert (
        invoke("report", "--study", str(spec), "--storage", storage, "--format", "docx", "--out", "rep").exit_code == 0
    )
    texts = [p.text for p in docx.Document("rep/report.docx").paragraphs]
    note = (
        "Every row of this ablation trained 1 epoch(s), a smaller budget than the search's 3: its rows compare "
        "with each other, not with the trial table or the confirmation, and what it finds holds at that budget."
    )
    assert texts[texts.index(note) + 1].startswith("Table 4. Ablation of study 'tiny-digits'")
    full = [p.text for p in docx.Document(str(folder / "rep-en-docx" / "report.docx")).paragraphs]
    assert not any(t.startswith("Every row of this ablation") for t in full)  # the fixture's ran at full budget
