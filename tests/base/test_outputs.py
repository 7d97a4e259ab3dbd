"""Output folders are checked before any training or database write: one line, nothing written."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from autotune.base.output_folders import check_output_folder, writable_problem
from autotune.errors import OutputError
from tests.conftest import assert_one_error_line, file_digest, invoke


def test_a_folder_that_can_be_made_is_accepted_and_not_made(tmp_path):
    assert writable_problem(tmp_path / "a" / "b") is None
    assert writable_problem(tmp_path) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the probe folder is gone again


def test_what_cannot_be_a_folder_is_named(tmp_path):
    (tmp_path / "file").write_text("x")
    assert writable_problem(tmp_path / "file") == "it is a file, not a folder"
    assert writable_problem(tmp_path / "file" / "sub") == f"'{tmp_path / 'file'}' is a file, not a folder"
    assert writable_problem("/proc/x") == "'/proc' does not let a folder be made in it (No such file or directory)"
    with pytest.raises(
        OutputError,
        match=r"cannot write to --out folder '/proc/x': '/proc' does not let a folder "
        r"be made in it \(No such file or directory\); nothing was written",
    ):
        check_output_folder("/proc/x")


COMMANDS = {
    "report": ["report"],
    "export": ["export"],  # would retrain a final model first
    "export-no-retrain": ["export", "--no-retrain"],
    "sweep": ["sweep", "--param", "batch_size", "--values", "64,128", "--epochs", "1"],
    "ablate": ["ablate", "--seeds", "2", "--epochs", "1"],
}


@pytest.mark.parametrize("where", ["proc", "under-a-file"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_an_unwritable_out_before_any_work(study_path, tmp_path, command, where):
    (tmp_path / "afile").write_text("x")
    out, reason = {
        "proc": ("/proc/x", "'/proc' does not let a folder be made in it"),
        "under-a-file": (str(tmp_path / "afile" / "out"), f"'{tmp_path / 'afile'}' is a file"),
    }[where]
    before = file_digest(Path("autotune.db"))
    args = COMMANDS[command]
    result = invoke(args[0], "--study", study_path, *args[1:], "--out", out)
    assert_one_error_line(result, f"cannot write to --out folder '{out}': {reason}", "nothing was written")
    assert file_digest(Path("autotune.db")) == before  # no replay trained or stored, nothing else touched
    names = {s.study_name for s in optuna.get_all_study_summaries("sqlite:///autotune.db")}
    assert names == {"tiny-digits"}


def test_a_chinese_report_goes_beside_the_english_one_not_over_it(study_path):
    assert invoke("report", "--study", study_path, "--format", "md").exit_code == 0
    english = Path("report-tiny-digits/report.md").read_text()
    zh = invoke("report", "--study", study_path, "--format", "md", "--lang", "zh")
    assert zh.exit_code == 0 and zh.stdout.startswith("Report written to report-tiny-digits-zh/")
    assert Path("report-tiny-digits/report.md").read_text() == english
    assert "验证集准确率" in Path("report-tiny-digits-zh/report.md").read_text()
