"""Reading hand tables: the seed reports' tables value by value, every header and value form, --map, bad tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.errors import OptionError, TableError
from autotune.hand_tables import read as hand_tables
from autotune.hand_tables import words as hand_words
from autotune.spec.study import load_spec
from tests.conftest import REPO

SEEDS = REPO.parent / "shared" / "seeds"
GRID = SEEDS / "hand-grid-000.csv"

# hand-grid-000.csv, row by row: (row, lr, schedule as written, batch size, hidden widths, init, train loss,
# validation accuracy as a fraction, remark); None where the student recorded nothing
S = "0.01；100；0.01"
GRID_ROWS = [
    (1, 0.01, None, 20, [256, 128], "normal", 0.0125282152956545, 0.9745, "前10步已经93%正确率；"),
    (2, 0.005, None, 20, [256, 128], "normal", None, None, "达到99%正确率的速度仅次于4，但在验证集上表现不如1"),
    (3, 0.02, None, 20, [256, 128], "normal", None, None, "收敛速度慢，比起1有更严重的震荡现象"),
    (
        4,
        0.01,
        None,
        50,
        [256, 128],
        "normal",
        0.017023733781134445,
        0.9643,
        "收敛速度很快，但在验证集上表现不如同架构其他组",
    ),
    (5, 0.05, None, 100, [256, 128], "normal", 0.020577554753189117, 0.9738, "计算速度比1快；其他性能和1差不多"),
    (6, 0.01, None, 20, [256, 128, 64], "normal", None, None, "在6~8中收敛速度最慢；与其他网络架构相比存在过拟合"),
    (7, 0.005, None, 20, [256, 128, 64], "normal", None, None, "收敛速度与过拟合情况都在6、7之间"),
    (
        8,
        0.015,
        None,
        100,
        [256, 128, 64],
        "normal",
        0.011722869987425198,
        0.9597,
        "在6~8中计算速度最快，收敛速度最快，但过拟合最严重",
    ),
    (9, 0.01, None, 20, [256], "normal", None, None, "在同架构中表现最好"),
    (10, 0.008, None, 20, [256], "normal", None, None, "性能和收敛速度都处于9、11之间"),
    (11, 0.03, None, 50, [256], "normal", 0.039864867721801596, 0.9698, "在同架构中收敛速度最快"),
    (12, 0.04, None, 120, [256], "normal", None, None, ""),
    (13, 0.05, None, 120, [256, 128], "normal", None, None, ""),
    (14, 0.01, None, 20, [256, 128], "zeros", 1.9831465483466937, 0.2131, "无法收敛，且很早就开始在局部最小值震荡"),
    (15, 0.01, None, 20, [256, 128], "uniform", 0.024182435463396715, 0.9738, "性能很好"),
    (16, 0.01, None, 20, [256, 128], "kaiming_normal", 0.04306577085964721, 0.9715, "性能较好"),
    (17, 0.01, None, 20, [256, 128], "sparse", 0.04211769800308112, 0.9719, "性能较好"),
    (18, 0.01, None, 20, [256, 128], "xavier_uniform", 0.02735760205213196, 0.9724, "性能比较好"),
    (
        19,
        0.01,
        None,
        20,
        [256, 128],
        "xavier_normal",
        0.026870911224916104,
        0.9738,
        "性能较好，但收敛速度慢，感觉需要再多跑一些epoch性能会更好",
    ),
    (20, 0.01, S, 16, [256, 128], "uniform", 0.028688103058198848, 0.9703, ""),
    (21, 0.01, S, 32, [256, 128], "uniform", 0.013422810276274715, 0.9757, ""),
    (22, 0.01, S, 64, [256, 128], "uniform", 0.011798485654761971, 0.9662, ""),
    (23, 0.01, S, 16, [256, 128], "normal", 0.018482317418073, 0.9737, ""),
    (24, 0.01, S, 32, [256, 128], "normal", 0.0017577335683891593, 0.9743, ""),
    (25, 0.01, S, 64, [256, 128], "normal", 0.024219578514828546, 0.9574, ""),
    (26, 0.01, S, 16, [256, 128], "xavier_normal", 0.032300172226615506, 0.9723, ""),
    (27, 0.01, S, 32, [256, 128], "xavier_normal", 0.018281775653755217, 0.9728, ""),
    (28, 0.01, S, 64, [256, 128], "xavier_normal", 0.017303256891992767, 0.9667, ""),
]


def read_one(path, spec="mlp-mnist", maps=None) -> hand_tables.HandTable:
    tables = [hand_tables.read(t, load_spec(spec), maps or {}) for t in hand_tables.read_tables(str(path))]
    assert len(tables) == 1
    return tables[0]


def row_values(row: hand_tables.HandRow) -> tuple:
    params = {k: v for k, (v, _) in row.params.items()}
    return (
        int(row.label),
        params["lr"],
        row.schedule_as_written,
        params["batch_size"],
        params["units"],
        params["init"],
        row.figures.get("train_loss"),
        row.figures.get("val_accuracy"),
        row.remark,
    )


def approx_rows(rows):
    return [tuple(pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for v in r) for r in rows]


@pytest.fixture
def seed_file(tmp_path):
    """A Markdown table cut out of a seed report (the reports are .txt files holding Markdown)."""

    def cut(name: str) -> Path:
        source = next(SEEDS.glob(f"{name}_*.txt"), None)
        if source is None:
            pytest.skip(f"seed report {name} is not beside this checkout")
        return source

    return cut


def test_the_hand_grid_csv_reads_row_by_row():
    if not GRID.is_file():
        pytest.skip("the seed hand grid is not beside this checkout")
    table = read_one(GRID)
    assert [c.field for c in table.columns] == [
        "row",
        "lr",
        "lr_schedule",
        "batch_size",
        "structure",
        "init",
        "train_loss",
        "val_accuracy",
        "remark",
    ]
    assert [row_values(r) for r in table.rows] == approx_rows(GRID_ROWS)
    # an empty schedule cell is no schedule; a written one is a step schedule, kept as written
    assert [r.params["lr_schedule"][0] for r in table.rows] == ["none"] * 19 + ["step"] * 9
    assert table.empty_rows == 0


def test_report_000s_markdown_table_is_the_same_grid(seed_file):
    """The report's own table: Chinese headers, 正态/零/均匀/He/稀疏/Xavier均匀/Xavier高斯, the schedule in the
    learning-rate column, a bold row number, '-' for nothing recorded, blank rows and two unfilled rows."""
    path = seed_file("000")
    tables = hand_tables.read_tables(str(path))
    assert [t.label for t in tables] == [f"{path.name}#1", f"{path.name}#2"]
    with pytest.raises(
        TableError,
        match=rf"{path.name}#2: column 1 '参数': unknown column; .* or import only the "
        rf"table you mean with --table {path.name}#N$",
    ):
        [hand_tables.read(t, load_spec("mlp-mnist"), {}) for t in tables]  # the report's empty ablation table
    assert tables[0].header == (
        "编号",
        "学习率",
        "Batch Size",
        "网络结构",
        "初始化方法",
        "训练集Loss",
        "验证集准确率(%)",
        "备注",
    )
    table = read_one(f"{path}#1")
    assert [c.field for c in table.columns] == [
        "row",
        "lr",
        "batch_size",
        "structure",
        "init",
        "train_loss",
        "val_accuracy",
        "remark",
    ]
    assert [row_values(r) for r in table.rows] == approx_rows(GRID_ROWS)
    assert table.empty_rows == 4  # two blank separator rows, rows 29 and 30 with a number only
    assert [r.line for r in table.rows][:2] == [9, 10]  # the file's own lines


def test_report_004s_one_factor_tables_with_map(seed_file):
    """Mixed headers (训练轮数epoch, 学习率learning rate, 批处理大小batch_size, 准确率accuracy); a CNN's hidden units
    are ambiguous until --map says fc_units."""
    path = seed_file("004")
    spec = load_spec("cnn-mnist")
    raw = hand_tables.read_tables(str(path))
    assert [t.header for t in raw] == [
        ("训练轮数epoch", "准确率accuracy"),
        ("学习率learning rate", "准确率accuracy"),
        ("隐藏层神经元", "准确率accuracy"),
        ("批处理大小batch_size", "准确率accuracy"),
    ]
    with pytest.raises(
        TableError,
        match=r"#3: column 1 '隐藏层神经元': 'hidden units' is ambiguous for model 'cnn': "
        r"give maps '隐藏层神经元=fc_units'",
    ):
        hand_tables.read(raw[2], spec, {})
    tables = [hand_tables.read(t, spec, {"隐藏层神经元": "fc_units"}) for t in raw]
    got = [[({k: v for k, (v, _) in r.params.items()}, r.figures) for r in t.rows] for t in tables]
    assert got == [
        [
            ({}, {"epochs": 5, "val_accuracy": pytest.approx(0.9878)}),
            ({}, {"epochs": 10, "val_accuracy": pytest.approx(0.9880)}),
            ({}, {"epochs": 20, "val_accuracy": pytest.approx(0.9858)}),
        ],
        [
            ({"lr": 0.1}, {"val_accuracy": pytest.approx(0.1135)}),
            ({"lr": 0.01}, {"val_accuracy": pytest.approx(0.1280)}),
            ({"lr": 0.001}, {"val_accuracy": pytest.approx(0.9878)}),
            ({"lr": 0.0001}, {"val_accuracy": pytest.approx(0.9805)}),
        ],
        [
            ({"fc_units": 512}, {"val_accuracy": pytest.approx(0.9878)}),
            ({"fc_units": 1024}, {"val_accuracy": pytest.approx(0.9890)}),
            ({"fc_units": 2048}, {"val_accuracy": pytest.approx(0.9880)}),
            ({"fc_units": 4096}, {"val_accuracy": pytest.approx(0.9838)}),
        ],
        [
            ({"batch_size": 64}, {"val_accuracy": pytest.approx(0.9884)}),
            ({"batch_size": 100}, {"val_accuracy": pytest.approx(0.9878)}),
            ({"batch_size": 256}, {"val_accuracy": pytest.approx(0.9845)}),
            ({"batch_size": 1024}, {"val_accuracy": pytest.approx(0.9832)}),
        ],
    ]


@pytest.mark.parametrize(
    "header, field, percent",
    [
        ("学习率", "lr", False),
        ("学习率learning rate", "lr", False),
        ("Learning Rate", "lr", False),
        ("learning_rate", "lr", False),
        ("学习率LR", "lr", False),
        ("批处理大小", "batch_size", False),
        ("批处理大小batch_size", "batch_size", False),
        ("Batch Size", "batch_size", False),
        ("网络结构", "structure", False),
        ("layers", "structure", False),
        ("初始化方法", "init", False),
        ("隐藏层神经元", "hidden_units", False),
        ("hidden units", "hidden_units", False),
        ("训练轮数", "epochs", False),
        ("训练轮数epoch", "epochs", False),
        ("Epochs", "epochs", False),
        ("训练集Loss", "train_loss", False),
        ("train loss", "train_loss", False),
        ("训练集准确率", "train_accuracy", False),
        ("验证集Loss", "val_loss", False),
        ("验证集准确率", "val_accuracy", False),
        ("验证集准确率(%)", "val_accuracy", True),
        ("验证集准确率（%）", "val_accuracy", True),
        ("val_accuracy_pct", "val_accuracy", True),
        ("准确率accuracy", "val_accuracy", False),
        ("**准确率**", "val_accuracy", False),
        ("备注", "remark", False),
        ("remark_zh", "remark", False),
        ("编号", "row", False),
        ("lr_schedule_as_written", "lr_schedule", False),
        ("激活函数", "activation", False),
        ("优化器", "optimizer", False),
    ],
)
def test_header_forms(header, field, percent):
    assert hand_words.field_of(header) == (field, percent)


@pytest.mark.parametrize("header", ["颜色", "learning", "学习率batch size", "参数"])
def test_unknown_or_self_contradicting_headers(header):
    assert hand_words.field_of(header)[0] is None


@pytest.mark.parametrize(
    "cell, init",
    [
        ("正态", "normal"),
        ("零", "zeros"),
        ("均匀", "uniform"),
        ("He", "kaiming_normal"),
        ("kaiming (He)", "kaiming_normal"),
        ("稀疏", "sparse"),
        ("Xavier均匀", "xavier_uniform"),
        ("Xavier高斯", "xavier_normal"),
        ("xavier_normal", "xavier_normal"),
        ("Kaiming Uniform", "kaiming_uniform"),
        ("正交", "orthogonal"),
        ("默认", "default"),
    ],
)
def test_initialiser_names_and_their_translations(cell, init):
    assert hand_words.param_value("init", cell, "here", load_spec("mlp-mnist")) == init


@pytest.mark.parametrize(
    "cell, percent, value",
    [
        ("97.45%", False, 0.9745),
        ("97.45", True, 0.9745),
        ("0.9745", False, 0.9745),
        ("**98.90%**", False, 0.989),
        ("98.78％", False, 0.9878),
    ],
)
def test_accuracy_forms(cell, percent, value):
    assert hand_words.figure("val_accuracy", cell, "here", percent=percent) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    "cell, hidden",
    [
        ("[784,256,128,10]", [256, 128]),
        ("784-256-10", [256]),
        ("(784, 512, 10)", [512]),
        ("[256,128]", [256, 128]),
        ("【784，256，128，64，10】", [256, 128, 64]),
        ("256", [256]),
    ],
)
def test_structure_forms(cell, hidden):
    assert hand_words.structure(cell, "here", load_spec("mlp-mnist")) == hidden


def test_a_structure_with_one_matching_end_is_refused():
    with pytest.raises(
        TableError,
        match=r"here: the structure '\[100,256,10\]' reads as input…output sizes only at "
        r"one end; dataset 'mnist' has 784 inputs and 10 outputs",
    ):
        hand_words.structure("[100,256,10]", "here", load_spec("mlp-mnist"))


@pytest.mark.parametrize(
    "cell, lr, written",
    [
        ("0.01", 0.01, None),
        ("1e-3", 0.001, None),
        ("0.01；100；0.01", 0.01, "0.01；100；0.01"),
        ("0.02;50;0.5", 0.02, "0.02;50;0.5"),
    ],
)
def test_learning_rate_and_schedule_forms(cell, lr, written):
    assert hand_words.learning_rate(cell, "here") == (lr, written)


def write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_map_names_a_column_and_can_ignore_one(tmp_path):
    path = write(tmp_path, "t.csv", "lr,宽度,颜色,acc\n0.01,300,red,91%\n")
    with pytest.raises(TableError, match="column 2 '宽度': unknown column"):
        read_one(path)
    table = read_one(path, maps={"宽度": "units", "颜色": "ignore"})
    assert [c.field for c in table.columns] == ["lr", "units", "val_accuracy"]
    row = table.rows[0]
    assert {k: v for k, (v, _) in row.params.items()} == {"lr": 0.01, "units": 300}
    assert row.figures == {"val_accuracy": pytest.approx(0.91)}


def test_map_errors(tmp_path):
    path = write(tmp_path, "t.csv", "lr,acc\n0.01,0.9\n")
    spec = load_spec("mlp-mnist")
    raw = hand_tables.read_tables(str(path))
    with pytest.raises(OptionError, match=r"maps 'lr=speed': 'speed' is not something a column can hold"):
        hand_tables.check_maps({"lr": "speed"}, spec, raw)
    with pytest.raises(OptionError, match=r"maps 'rate=lr': no table has a column 'rate' \(t.csv: lr, acc\)"):
        hand_tables.check_maps({"rate": "lr"}, spec, raw)


def test_an_accuracy_column_is_in_percent_when_any_cell_is(tmp_path):
    fractions = read_one(write(tmp_path, "f.csv", "lr,accuracy\n0.01,0.9\n0.02,0.95\n"))
    percents = read_one(write(tmp_path, "p.csv", "lr,accuracy\n0.01,0.9\n0.02,95\n"))
    assert [r.figures["val_accuracy"] for r in fractions.rows] == [0.9, 0.95]
    assert [r.figures["val_accuracy"] for r in percents.rows] == [pytest.approx(0.009), pytest.approx(0.95)]


def test_markdown_picks_one_table_and_counts_from_one(tmp_path):
    text = "intro\n\n| lr | acc |\n|---|---|\n| 0.1 | 90% |\n\ntext\n\n| 学习率 | 准确率 |\n|:-:|:-:|\n| 0.2 | 80% |\n"
    path = write(tmp_path, "r.md", text)
    assert [t.label for t in hand_tables.read_tables(str(path))] == ["r.md#1", "r.md#2"]
    assert read_one(f"{path}#2").rows[0].params["lr"] == (0.2, "学习率")
    with pytest.raises(TableError, match=r"r.md' holds 2 Markdown table\(s\), numbered 1 to 2"):
        hand_tables.read_tables(f"{path}#3")


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("ragged.csv", "lr,acc\n0.01,0.9\n0.02\n", "ragged.csv row 2 (line 3) has 1 cells, the header has 2"),
        ("ragged.md", "| lr | acc |\n|---|---|\n| 0.01 | 0.9 | x |\n", "ragged.md#1 row 1 (line 3) has 3 cells"),
        ("unknown.csv", "lr,colour\n0.01,red\n", "unknown.csv: column 2 'colour': unknown column"),
        (
            "value.csv",
            "lr,acc\nfast,0.9\n",
            "value.csv row 1 (line 2), column 'lr': cannot read 'fast' as a learning rate",
        ),
        ("acc.csv", "lr,acc\n0.01,1.5%x\n", "acc.csv row 1 (line 2), column 'acc': cannot read '1.5%x' as an accuracy"),
        ("range.csv", "lr,acc\n0.01,150\n", "range.csv row 1 (line 2), column 'acc': cannot read '150' as an accuracy"),
        ("empty.csv", "", "empty.csv: the table is empty"),
        ("header.csv", "lr,acc\n", "header.csv: the table has no rows with values"),
        (
            "blank.md",
            "| lr | acc |\n|---|---|\n| | |\n",
            "blank.md#1: the table has no rows with values (1 empty row(s))",
        ),
        ("none.md", "no table here\n", "no Markdown table in"),
        ("twice.csv", "lr,学习率\n0.1,0.2\n", "twice.csv: columns 'lr' and '学习率' both give lr"),
        ("hole.csv", "lr,batch_size,acc\n0.1,,0.9\n", "hole.csv row 1 (line 2), column 'batch_size': empty"),
        (
            "sched.csv",
            "lr,lr_schedule,acc\n0.02,0.01；100；0.01,0.9\n",
            "sched.csv row 1 (line 2): the schedule '0.01；100；0.01' starts at 0.01, but column 'lr' says the "
            "learning rate is 0.02",
        ),
    ],
)
def test_bad_tables(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(TableError) as info:
        read_one(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
