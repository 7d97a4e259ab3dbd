"""Write the module table of docs/modules.md from the modules' own docstrings (their first sentence).

    .venv/bin/python scripts/module_table.py          # rewrite the table in place
    .venv/bin/python scripts/module_table.py --check  # exit 1 if the table differs from the code (a test runs this)

The layers are read from pyproject.toml's import-linter contract, top first, so the table lists them in the order
the contract enforces.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "modules.md"
START, END = "<!-- module table: scripts/module_table.py -->", "<!-- end of module table -->"


def layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in config if c["type"] == "layers"]
    return [name.strip().removeprefix("autotune.") for line in contract["layers"] for name in line.split("|")]


def plain(text: str) -> str:
    """A docstring's reStructuredText roles and literals as Markdown code."""
    text = re.sub(r":(?:mod|func|class|data|meth):`~?(?:autotune\.)?([^`]+)`", r"`\1`", text)
    return " ".join(text.replace("``", "`").split()).replace("|", "\\|")


def first_sentence(doc: str) -> str:
    """The first sentence of a docstring's first paragraph, in Markdown: what the module holds, in a line."""
    paragraph = plain(doc.split("\n\n")[0])
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", paragraph, maxsplit=1)[0]


def table() -> str:
    rows = ["| module | what it holds |", "|---|---|"]
    for layer in layers():
        folder = ROOT / "autotune" / layer
        files = (
            [folder.with_suffix(".py")]
            if not folder.is_dir()
            else sorted(f for f in folder.glob("*.py") if f.name not in ("__init__.py", "__main__.py"))
        )
        for f in files:
            doc = ast.get_docstring(ast.parse(f.read_text(encoding="utf-8"))) or ""
            rows.append(f"| `{f.relative_to(ROOT / 'autotune')}` | {first_sentence(doc)} |")
    return "\n".join(rows)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(START + "\n", 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table()}\n{END}{tail}"
    if "--check" in sys.argv[1:]:
        if new != text:
            print("docs/modules.md: the module table differs from the code; run scripts/module_table.py")
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
