"""Word documents (``.docx``): the report a student hands in, and one table alone (ablation, confirmation).

Written with python-docx. Its API has no East Asian font, no language tag, no repeated header row and no row kept on
one page, so :func:`_fonts`, :func:`_language`, :func:`_repeat_header` and :func:`_keep_together` set those by XML;
everything else goes through the library. Every run gets its fonts, Latin and East Asian, so a Chinese document shows
its characters in Word and LibreOffice whatever their default font is: SimSun (宋体) for text and SimHei (黑体) for
headings, the fonts of Chinese lab reports, with the East Asian language set to zh-CN so that a machine without them
substitutes a Chinese font.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autotune.words import i18n

#: (Latin font, East Asian font) for body text and for headings, per language
FONTS = {
    "en": {"body": ("Calibri", "Calibri"), "heading": ("Calibri", "Calibri")},
    "zh": {"body": ("Times New Roman", "SimSun"), "heading": ("Times New Roman", "SimHei")},
}
#: Table font sizes (points): a wide table, e.g. the trial table, gets the smaller one
TABLE_PT, WIDE_TABLE_PT = 9.0, 7.5


class Document:
    """A document in one language with numbered tables and figures (``Table 1``/``表 1``, ``Figure 1``/``图 1``)."""

    def __init__(self, lang: str = "en") -> None:
        import docx
        from docx.shared import Cm, Pt

        self.lang = lang
        self.doc = docx.Document()
        self.n_tables = 0
        self.n_figures = 0
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
        section.left_margin = section.right_margin = Cm(2.0)
        section.top_margin = section.bottom_margin = Cm(2.0)
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(10.5)  # 五号, the size of Chinese lab reports
        for name in ("Normal", "Title", "Heading 1", "Heading 2", "Caption", "List Bullet"):
            style = self.doc.styles[name]
            _fonts(
                style.element.get_or_add_rPr(),
                *FONTS[lang]["body" if name in ("Normal", "Caption", "List Bullet") else "heading"],
            )
        if lang == "zh":
            _language(normal.element.get_or_add_rPr(), "zh-CN")

    @property
    def width(self) -> Any:
        """The text width of the page."""
        section = self.doc.sections[-1]
        return section.page_width - section.left_margin - section.right_margin

    def _runs(self, paragraph: Any, heading: bool = False) -> Any:
        for run in paragraph.runs:
            _fonts(run._r.get_or_add_rPr(), *FONTS[self.lang]["heading" if heading else "body"])
        return paragraph

    def title(self, text: str) -> None:
        self._runs(self.doc.add_heading(text, level=0), heading=True)

    def heading(self, text: str, level: int = 1, *, landscape: bool = False) -> None:
        """A heading; ``landscape``: it opens a landscape section (for a table too wide for a portrait page), and a
        heading without it goes back to portrait."""
        self.orientation(landscape)
        self._runs(self.doc.add_heading(text, level=level), heading=True)

    def needs_landscape(self, heads: Sequence[str], body: Sequence[Sequence[Any]]) -> bool:
        """Whether a wide table's text would not fit across a portrait page: more than :data:`PORTRAIT_CHARS`, or
        a column narrower than its longest word."""
        from docx.shared import Emu

        rows = _texts(heads, body)
        section = self.doc.sections[0]  # portrait
        portrait = Emu(section.page_width - section.left_margin - section.right_margin).cm
        return sum(column_weights(rows)) > PORTRAIT_CHARS or column_widths(rows, portrait, WIDE_TABLE_PT)[1] == 2

    def paragraph(self, text: str, *, style: str | None = None, italic: bool = False) -> None:
        paragraph = self.doc.add_paragraph(style=style)
        paragraph.add_run(text).italic = italic or None
        self._runs(paragraph)

    def bullets(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.paragraph(line, style="List Bullet")

    def caption(self, kind: str, text: str) -> str:
        """A numbered caption, ``kind`` ``table`` (above its table) or ``figure`` (below its picture)."""
        if kind == "table":
            self.n_tables += 1
            label = i18n.say(self.lang, "doc_table_label", n=self.n_tables)
        else:
            self.n_figures += 1
            label = i18n.say(self.lang, "doc_figure_label", n=self.n_figures)
        paragraph = self.doc.add_paragraph(style="Caption")
        paragraph.add_run(label).bold = True
        paragraph.add_run(i18n.say(self.lang, "doc_caption_sep") + text)
        self._runs(paragraph)
        return label

    def orientation(self, landscape: bool) -> None:
        """Go on in a new section, on a new page, landscape or portrait (nothing if it is so already)."""
        from docx.enum.section import WD_ORIENT, WD_SECTION

        current = self.doc.sections[-1]
        if (current.orientation == WD_ORIENT.LANDSCAPE) == landscape:
            return
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        short, long = sorted((current.page_width, current.page_height))
        section.page_width, section.page_height = (long, short) if landscape else (short, long)

    def table(
        self, heads: Sequence[str], body: Sequence[Sequence[Any]], *, caption: str | None = None, wide: bool = False
    ) -> Any:
        """A table with its header row repeated on every page it runs over, its columns as wide as their text
        needs (:func:`column_weights`); ``wide``: the smaller font (see :meth:`needs_landscape`)."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Cm, Emu, Pt

        rows = _texts(heads, body)
        size = WIDE_TABLE_PT if wide else TABLE_PT
        if caption:
            self.caption("table", caption)
        table = self.doc.add_table(rows=len(rows), cols=len(heads))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = [Cm(w) for w in column_widths(rows, Emu(self.width).cm, size)[0]]
        for column, width in zip(table.columns, widths):
            column.width = width
        for r, cells in enumerate(rows):
            row = table.rows[r]
            for c, value in enumerate(cells):
                cell = row.cells[c]
                cell.width = widths[c]
                cell.text = value
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.space_after = Pt(0)
                    for run in paragraph.runs:
                        run.font.size = Pt(size)
                        run.bold = r == 0 or None
                    self._runs(paragraph)
        _repeat_header(table.rows[0])
        for row in table.rows:
            _keep_together(row)
        return table

    def figure(self, path: str | Path, caption: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        self.doc.add_picture(str(path), width=int(self.width * 0.9))
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.caption("figure", caption)

    def save(self, path: str | Path) -> str:
        self.doc.save(str(path))
        return str(path)


#: Characters (of the weights below) that fit across a portrait page in a wide table's font; more go landscape
PORTRAIT_CHARS = 110
#: Centimetres per character at the tables' font sizes, and a cell's padding (measured on LibreOffice's pages)
CHAR_CM = {TABLE_PT: 0.23, WIDE_TABLE_PT: 0.19}
PAD_CM = 0.4
#: A column whose longest cell has at most this many characters keeps them on one line
SHORT = 16


def _width(text: str) -> int:
    """``text``'s width in Latin characters: a CJK character or full-width sign takes two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _unbreakable(text: str) -> int:
    """The width of ``text``'s longest piece that cannot wrap: a Latin word; Chinese wraps between any two
    characters, so a piece with CJK in it counts as two of them."""
    return max([4 if _width(w) > len(w) else _width(w) for w in text.split()] or [0])


def _texts(heads: Sequence[str], body: Sequence[Sequence[Any]]) -> list[list[str]]:
    return [[("" if v is None else str(v)) for v in cells] for cells in [list(heads), *body]]


def _cell_widths(rows: Sequence[Sequence[str]], c: int) -> list[int]:
    """The width of the widest line of each body cell of column ``c`` ([0] for a table without a body)."""
    return [max((_width(line) for line in row[c].splitlines()), default=0) for row in rows[1:]] or [0]


def column_weights(rows: Sequence[Sequence[str]]) -> list[float]:
    """How wide each column would like to be, in characters: its cells' mean length, raised toward the longest,
    between the header's longest word (at least 3) and 60."""
    weights = []
    for c in range(len(rows[0])):
        cells = _cell_widths(rows, c)
        word = max(3, _unbreakable(rows[0][c]))
        natural = 0.5 * sum(cells) / len(cells) + 0.5 * max(cells)
        weights.append(float(min(60, max(word, natural))))
    return weights


def column_widths(rows: Sequence[Sequence[str]], total_cm: float, size: float) -> tuple[list[float], int]:
    """Column widths (cm) that add up to ``total_cm``: a short column (numbers, states) gets its longest cell on one
    line, or where the page is too narrow for that its longest word; the long ones (structure, remark,
    configuration) share the rest by :func:`column_weights`, never below their longest word. With the widths, which
    of these held: 0 (short columns on one line), 1 (at their longest word), 2 (neither: widths by weight alone)."""
    n = len(rows[0])
    weights = column_weights(rows)

    def cm(chars: int) -> float:
        return chars * CHAR_CM[size] + PAD_CM

    word = [cm(max(_unbreakable(row[c]) for row in rows)) for c in range(n)]
    full = [max(_cell_widths(rows, c)) for c in range(n)]
    short = [full[c] <= SHORT for c in range(n)]
    long_weight = sum(w for w, s in zip(weights, short) if not s)
    for tier, one_line in enumerate((True, False)):
        fixed = [max(word[c], cm(full[c]) if one_line else 0) if short[c] else 0.0 for c in range(n)]
        left = total_cm - sum(fixed)
        shares = [left * weights[c] / long_weight if long_weight and not short[c] else 0.0 for c in range(n)]
        if left < 0 or not all(short[c] or shares[c] >= word[c] for c in range(n)):
            continue
        if not long_weight:  # every column short: the room left is shared in proportion
            return [f * total_cm / sum(fixed) for f in fixed], tier
        return [fixed[c] + shares[c] for c in range(n)], tier
    return [total_cm * w / sum(weights) for w in weights], 2


def table_document(
    path: str | Path,
    *,
    title: str,
    heads: Sequence[str],
    body: Sequence[Sequence[Any]],
    caption: str,
    lines: Sequence[str] = (),
    lang: str = "en",
    wide: bool = False,
) -> str:
    """One table alone, with its caption and the lines that read it, as a document to paste from."""
    doc = Document(lang)
    doc.heading(title, level=1, landscape=wide and doc.needs_landscape(heads, body))
    doc.table(heads, body, caption=caption, wide=wide)
    doc.bullets(lines)
    return doc.save(path)


# python-docx has no API for these: East Asian fonts, the language tag, a repeated header row, a row kept whole.


def _fonts(rpr: Any, latin: str, east_asian: str) -> None:
    """Latin and East Asian fonts on a run's or a style's properties (``w:rFonts``); theme fonts, which would
    override them, are removed."""
    from docx.oxml.ns import qn

    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asian)


def _language(rpr: Any, east_asian: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), east_asian)


def _keep_together(row: Any) -> None:
    """A row is never split across two pages (``w:cantSplit``)."""
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)
