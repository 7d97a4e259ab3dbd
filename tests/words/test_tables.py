"""Tables in the seed reports' format: headers in both languages, cells, Markdown and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from autotune.words import tables


@pytest.mark.parametrize(
    "key, en, zh",
    [
        ("train_loss", "Train loss", "训练集Loss"),
        ("val_accuracy", "Validation accuracy", "验证集准确率"),
        ("configuration", "Configuration", "实验配置"),
        ("change", "Change in performance", "性能变化"),
    ],
)
def test_headers_in_english_and_in_the_seed_reports_chinese(key, en, zh):
    assert (tables.header(key, "en"), tables.header(key, "zh")) == (en, zh)


def test_mean_std_cells():
    assert tables.mean_std(0.98765, 0.00123, percent=True) == "98.77% ± 0.12"
    assert tables.mean_std(0.123456, None) == "0.1235"  # one seed: no spread was measured, none is printed
    assert tables.mean_std(0.9, None, percent=True) == "90.00%"
    assert tables.mean_std(None, 0.1) == "-"
    assert (tables.short(0.0123456), tables.short(128), tables.short("adam")) == ("0.01235", "128", "adam")


def test_markdown_escapes_pipes_and_newlines():
    md = tables.markdown(["a|b", "c"], [["x|y", "two\nlines"], [1, 2.5]])
    assert md == "| a\\|b | c |\n|---|---|\n| x\\|y | two lines |\n| 1 | 2.5 |\n"


def test_csv_round_trips():
    text = tables.to_csv(["lr", "remark"], [[0.01, 'says "hi", twice'], [0.1, ""]])
    assert list(csv.reader(io.StringIO(text))) == [["lr", "remark"], ["0.01", 'says "hi", twice'], ["0.1", ""]]
