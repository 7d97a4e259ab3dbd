"""Hand tables: the tuning tables people fill by hand, read from CSV or Markdown into rows of typed values.

A file holds one CSV table, or any number of Markdown pipe tables (``FILE#N`` picks the N-th). Each
column is recognised by its header in English, in the seed reports' Chinese or in a mix of both
(``学习率learning rate``, see :mod:`autotune.hand_tables.words`), or named with ``--map COLUMN=PARAM``; each
cell is read the way people write it (``97.45%``, ``[784,256,128,10]``, ``正态``). Nothing here knows
Optuna or a database: :mod:`autotune.hand_tables.into_study` turns the rows into trials. Every problem is a
:class:`TableError` naming the table, the row (and its line) and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotune.errors import OptionError, TableError
from autotune.hand_tables import words
from autotune.spec.study import StudySpec

_DELIMITER = re.compile(r"^:?-+:?$")


@dataclass(frozen=True)
class RawRow:
    position: int  # 1-based among the table's data rows
    line: int  # in the file
    cells: tuple[str, ...]


@dataclass(frozen=True)
class RawTable:
    label: str  # "hand-grid-000.csv", "report.md#2"
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    field: str  # a parameter of the spec, a figure (words.FIGURES), "row", "remark", "structure" or "ignore"
    percent: bool = False  # the header says the column is in percent ("(%)", "pct")


@dataclass
class HandRow:
    """One row of a hand table, read: parameter values (with the column each came from), figures, remark."""

    table: str
    position: int
    line: int
    label: str  # the row's own number (its 编号/row column) when the table has one, else its position
    params: dict[str, tuple[Any, str]] = field(default_factory=dict)  # param -> (value, column header)
    figures: dict[str, float | int] = field(default_factory=dict)  # val_accuracy (a fraction), train_loss, epochs, ...
    remark: str = ""
    schedule_as_written: str | None = None
    cells: dict[str, str] = field(default_factory=dict)  # header -> the cell as written
    header: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.table} row {self.label} (line {self.line})"


@dataclass(frozen=True)
class HandTable:
    label: str
    columns: tuple[Column, ...]
    rows: tuple[HandRow, ...]
    empty_rows: int  # rows with nothing but (at most) a row number, skipped


# --------------------------------------------------------------------------------------
# Files into raw tables


def read_tables(path: str) -> list[RawTable]:
    """The tables in ``path`` (``FILE#N``: only the N-th Markdown table), header and rows as text."""
    file, number = _split_number(path)
    name = Path(file).name
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TableError(f"table file '{file}' does not exist") from None
    except IsADirectoryError:
        raise TableError(f"table file '{file}' is a folder") from None
    except OSError as exc:
        raise TableError(f"cannot read table file '{file}': {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TableError(f"table file '{file}' is not UTF-8 text") from None
    if Path(file).suffix.lower() in (".csv", ".tsv"):
        if number is not None:
            raise TableError(f"'{path}': #N picks one of several Markdown tables; a CSV file holds one table")
        return [_csv_table(text, name, delimiter="\t" if file.lower().endswith(".tsv") else ",")]
    tables = _markdown_tables(text, name)
    if not tables:
        raise TableError(
            f"no Markdown table in '{file}' (a | header | line, a |---| line under it, then | rows |); "
            "a CSV file must end in .csv"
        )
    if number is None:
        return tables
    if not 1 <= number <= len(tables):
        raise TableError(f"'{path}': '{file}' holds {len(tables)} Markdown table(s), numbered 1 to {len(tables)}")
    return [tables[number - 1]]


def _split_number(path: str) -> tuple[str, int | None]:
    head, sep, tail = path.rpartition("#")
    if sep and tail.isdigit() and not Path(path).exists():
        return head, int(tail)
    return path, None


def _csv_table(text: str, name: str, *, delimiter: str) -> RawTable:
    lines = [(i + 1, row) for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter))]
    lines = [(n, [c.strip() for c in row]) for n, row in lines if any(c.strip() for c in row)]
    if not lines:
        raise TableError(f"{name}: the table is empty (no header, no rows)")
    (_, header), body = lines[0], lines[1:]
    rows = tuple(RawRow(i + 1, n, tuple(cells)) for i, (n, cells) in enumerate(body))
    return _checked(RawTable(name, tuple(header), rows))


def _markdown_tables(text: str, name: str) -> list[RawTable]:
    lines = text.splitlines()
    tables: list[RawTable] = []
    i = 0
    while i < len(lines):
        if not (
            _is_row(lines[i])
            and i + 1 < len(lines)
            and _is_row(lines[i + 1])
            and all(_DELIMITER.match(c) for c in _cells(lines[i + 1]))
        ):
            i += 1
            continue
        header, start, rows = _cells(lines[i]), i + 2, []
        i = start
        while i < len(lines) and _is_row(lines[i]):
            rows.append(RawRow(len(rows) + 1, i + 1, tuple(_cells(lines[i]))))
            i += 1
        tables.append(RawTable(f"{name}#{len(tables) + 1}", tuple(header), tuple(rows)))
    return [_checked(t) for t in tables]


def _is_row(line: str) -> bool:
    return line.strip().startswith("|")


def _cells(line: str) -> list[str]:
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    text = text[:-1] if text.endswith("|") and not text.endswith("\\|") else text
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", text)]


def _checked(table: RawTable) -> RawTable:
    width = len(table.header)
    blank = [i + 1 for i, h in enumerate(table.header) if not words.plain(h)]
    for row in table.rows:
        if len(row.cells) != width:
            raise TableError(
                f"{table.label} row {row.position} (line {row.line}) has {len(row.cells)} cells, the "
                f"header has {width}; every row needs one cell per column (leave a cell empty, or '-')"
            )
    if blank and any(row.cells[i - 1] for row in table.rows for i in blank):
        raise TableError(f"{table.label}: column {blank[0]} has no header; name it")
    return table


# --------------------------------------------------------------------------------------
# Headers into columns


def columns(table: RawTable, spec: StudySpec, maps: Mapping[str, str]) -> tuple[Column, ...]:
    """What each column of ``table`` holds, by ``maps`` (header -> field) first, else by its header's words."""
    out: list[Column] = []
    for index, header in enumerate(table.header):
        if not words.plain(header):
            continue  # a header-less, empty column (checked in _checked)
        mapped = _mapped(header, maps)
        field_, percent = (mapped, words.is_percent(header)) if mapped else words.field_of(header)
        where = f"{table.label}: column {index + 1} '{header}'"
        if field_ is None:
            one = (
                f"; or import only the table you mean with --table {table.label.rsplit('#', 1)[0]}#N"
                if ("#" in table.label)
                else ""
            )
            raise TableError(
                f"{where}: unknown column; recognised: {words.known()}; or name it with "
                f"«maps» '{words.plain(header)}=PARAM' (a parameter of spec '{spec.name}', a figure such "
                f"as val_accuracy, remark, or ignore){one}"
            )
        field_ = _for_model(field_, spec, where, header)
        out.append(Column(index, header, field_, percent))
    given: dict[str, str] = {}
    for column in out:
        for key in _covers(column.field, spec):
            if key in given:
                raise TableError(
                    f"{table.label}: columns '{given[key]}' and '{column.header}' both give {key}; "
                    f"«maps» one of them to ignore"
                )
            given[key] = column.header
    return tuple(c for c in out if c.field != "ignore")


def check_maps(maps: Mapping[str, str], spec: StudySpec, tables: list[RawTable]) -> None:
    """Every ``--map COLUMN=PARAM`` names a column of some table and something a column can hold."""
    allowed = words.map_targets(spec)
    for column, target in maps.items():
        if target not in allowed and not words.is_layer_key(target, spec):
            raise OptionError(
                f"«maps» '{column}={target}': '{target}' is not something a column can hold for spec "
                f"'{spec.name}'; allowed: {', '.join(allowed)}"
            )
        if not any(_mapped(h, {column: target}) for t in tables for h in t.header):
            heads = "; ".join(f"{t.label}: " + ", ".join(h for h in t.header if h) for t in tables)
            raise OptionError(f"«maps» '{column}={target}': no table has a column '{column}' ({heads})")


def _mapped(header: str, maps: Mapping[str, str]) -> str | None:
    for column, target in maps.items():
        if header.strip() == column.strip() or words.plain(header) == words.plain(column):
            return target
    return None


def _for_model(field_: str, spec: StudySpec, where: str, header: str) -> str:
    if field_ == "hidden_units":
        if spec.family == "mlp":
            return "units"
        raise TableError(
            f"{where}: 'hidden units' is ambiguous for model '{spec.model}': give «maps» "
            f"'{words.plain(header)}=fc_units' (the fully-connected layer) or another parameter"
        )
    if field_ == "structure" and spec.family != "mlp":
        raise TableError(
            f"{where}: a structure like [784,256,10] sets an MLP's layers; spec '{spec.name}' trains "
            f"model '{spec.model}' («maps» the column to one of its parameters, or to ignore)"
        )
    if field_ in words.FIELDS_NOT_PARAMS or field_ in spec.parameters or words.is_layer_key(field_, spec):
        return field_
    raise TableError(
        f"{where}: gives {field_}, which model '{spec.model}' does not have; "
        f"«maps» '{words.plain(header)}=PARAM' to one of its parameters ({', '.join(spec.parameters)}), "
        "or to ignore"
    )


def _covers(field_: str, spec: StudySpec) -> tuple[str, ...]:
    if field_ in ("ignore", "remark"):
        return () if field_ == "ignore" else ("remark",)
    if field_ == "structure":
        return ("n_layers", spec.per_layer or "units")
    return (field_,)


# --------------------------------------------------------------------------------------
# Cells into values


def read(table: RawTable, spec: StudySpec, maps: Mapping[str, str]) -> HandTable:
    """``table`` read into :class:`HandRow` s: every cell checked, rows with nothing in them skipped."""
    cols = columns(table, spec, maps)
    percent = {c.index: c.percent or _percent_column(table, c) for c in cols if c.field in words.ACCURACIES}
    rows, empty = [], 0
    number = next((c for c in cols if c.field == "row"), None)
    for raw in table.rows:
        content = [
            c for c in cols if c.field != "row" and raw.cells[c.index] and not words.is_blank(raw.cells[c.index])
        ]
        if not content:
            empty += 1
            continue
        label = words.strip_marks(raw.cells[number.index]) if number is not None else ""
        row = HandRow(
            table.label,
            raw.position,
            raw.line,
            label or str(raw.position),
            header=table.header,
            cells={table.header[c.index]: raw.cells[c.index] for c in cols},
        )
        for column in cols:
            _read_cell(row, column, raw.cells[column.index], spec, percent.get(column.index, False))
        _check_schedule(row)
        rows.append(row)
    if not rows:
        raise TableError(
            f"{table.label}: the table has no rows with values" + (f" ({empty} empty row(s))" if empty else "")
        )
    return HandTable(table.label, cols, tuple(rows), empty)


def _percent_column(table: RawTable, column: Column) -> bool:
    """An accuracy column is in percent when a cell says so (97.45%) or holds a number above 1."""
    for raw in table.rows:
        text = words.strip_marks(raw.cells[column.index])
        if text.endswith(("%", "％")):
            return True
        number = words.number(text)
        if number is not None and number > 1:
            return True
    return False


def _read_cell(row: HandRow, column: Column, cell: str, spec: StudySpec, percent: bool) -> None:
    text = words.strip_marks(cell)
    where = f"{row.where}, column '{column.header}'"
    field_ = column.field
    if field_ == "row":
        return
    if field_ == "remark":
        row.remark = text
        return
    if field_ == "lr_schedule":
        if words.is_blank(text):
            row.params["lr_schedule"] = ("none", column.header)
            return
        value, written = words.schedule(text, where)
        row.params["lr_schedule"] = (value, column.header)
        if written is not None:
            row.schedule_as_written = written
        return
    if words.is_blank(text):
        if field_ in words.FIGURES:
            return  # not recorded
        raise TableError(
            f"{where}: empty; a row that has values needs this one too (or drop the column, and "
            "give the value with --base)"
        )
    if field_ in words.FIGURES:
        row.figures[field_] = words.figure(field_, text, where, percent=percent)
    elif field_ == "structure":
        units = words.structure(text, where, spec)
        row.params["units"] = (units, column.header)
    elif field_ == "lr":
        value, written = words.learning_rate(text, where)
        row.params["lr"] = (value, column.header)
        if written is not None:  # "0.01；100；0.01": a step schedule written in the learning-rate column
            row.params.setdefault("lr_schedule", ("step", column.header))
            row.schedule_as_written = written
    else:
        row.params[field_] = (words.param_value(field_, text, where, spec), column.header)


def _check_schedule(row: HandRow) -> None:
    """A schedule written as 'start；step；factor' must start at the row's learning rate."""
    written = row.schedule_as_written
    if written is None or "lr" not in row.params:
        return
    start = words.number(re.split(r"[;；]", written)[0])
    lr, header = row.params["lr"]
    if start is not None and abs(start - lr) > 1e-12 * max(1.0, abs(lr)):
        raise TableError(
            f"{row.where}: the schedule '{written}' starts at {start:g}, but column '{header}' says "
            f"the learning rate is {lr:g}"
        )
