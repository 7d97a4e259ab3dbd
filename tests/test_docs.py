"""The documentation against the code: commands, options, spec keys, README and page sizes, links, the site."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click
import pytest

import autotune.spec.study as spec_module
from autotune.cli.commands import cli
from tests.conftest import REPO, load_script

DOCS = REPO / "docs"
README = REPO / "README.md"
README_LIMIT = 8_000  # #33: a front door; the manual is under docs/
PAGE_LIMIT = 20_000  # bytes of one docs/*.md page: a page to read, not a dump
# The commands' manual: commands.md (what all share) and one page per group of commands, each command once.
COMMAND_PAGES = ["commands-search.md", "commands-studies.md", "commands-seeds.md", "commands-results.md"]

# [text](target) and ![alt](target); the target ends at whitespace or ')'. Code is stripped first.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_COMMAND_HEADING = re.compile(r"^## `autotune ([a-z-]+)`\s*$", re.M)


def _top_keys() -> set[str]:
    keys = getattr(spec_module, "TOP_KEYS", None) or spec_module._TOP_KEYS
    return set(keys)


def _doc_files() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def _command_sections(text: str) -> dict[str, str]:
    """A commands page cut at its `## `autotune NAME`` headings: name -> that section's text."""
    marks = list(_COMMAND_HEADING.finditer(text))
    return {
        m.group(1): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for i, m in enumerate(marks)
    }


def _all_command_sections() -> list[tuple[str, str]]:
    """(name, section) for every `## `autotune NAME`` of the commands pages, duplicates kept."""
    return [
        item for page in COMMAND_PAGES for item in _command_sections((DOCS / page).read_text(encoding="utf-8")).items()
    ]


def _options(command: click.Command) -> list[str]:
    """Every name of every option of a command: --trials, -q and --quiet, --no-retrain ..."""
    return [
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in [*param.opts, *param.secondary_opts]
    ]


def _mentions(text: str, word: str) -> bool:
    """``word`` (an option such as --trial or -q) occurs as a whole token: --trial is not --trials."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def relative_links(path: Path) -> list[str]:
    """The relative link targets of a Markdown file (no URLs, no pure anchors, nothing inside code)."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", path.read_text(encoding="utf-8")))
    targets = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # https:, mailto: ... ; an anchor in the same file
        targets.append(target)
    return targets


def broken_links(path: Path) -> list[str]:
    return [t for t in relative_links(path) if not (path.parent / t.split("#", 1)[0]).exists()]


def test_the_manual_pages_exist():
    names = {p.name for p in _doc_files()}
    assert {
        "README.md",
        "commands.md",
        "specs.md",
        "storage-and-workers.md",
        "reproducibility.md",
        "guarantees.md",
        "python-api.md",
        "development.md",
        "reference.md",
        *COMMAND_PAGES,
    } <= names


@pytest.mark.parametrize("path", _doc_files(), ids=lambda p: p.name)
def test_no_docs_page_is_over_the_size_limit(path):
    size = path.stat().st_size
    assert size <= PAGE_LIMIT, f"docs/{path.name} has {size} bytes; the limit is {PAGE_LIMIT}: split it"


def test_every_command_has_one_section_in_the_commands_pages():
    names = [name for name, _ in _all_command_sections()]
    assert sorted(names) == sorted(cli.commands), f"one `## `autotune NAME`` per command in {COMMAND_PAGES}"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_section_links_to_its_reference_entry(name):
    """The options are no longer listed by hand (they drifted: `report --format` lacked docx and all); each
    command's section sends the reader to its entry in the generated reference instead."""
    section = dict(_all_command_sections()).get(name, "")
    assert f"(reference.md#autotune-{name})" in section, f"`autotune {name}`: no link to reference.md#autotune-{name}"
    overview = (DOCS / "commands.md").read_text(encoding="utf-8")
    assert f"autotune {name}" in overview and f"(reference.md#autotune-{name})" in overview


def _reference_markdown() -> str:
    """docs/reference.md as MkDocs renders it: its mkdocs-click block replaced by the commands' own help."""
    from mkdocs_click._extension import replace_command_docs

    page = (DOCS / "reference.md").read_text(encoding="utf-8")
    block = re.search(r"^::: mkdocs-click\n((?:    :\w+: .*\n)+)", page, re.M)
    assert block, "docs/reference.md has no `::: mkdocs-click` block"
    options = dict(re.findall(r":(\w+): (.*)", block.group(1)))
    assert (options["module"], options["command"]) == ("autotune.cli.commands", "cli")
    return page.replace(block.group(0), "\n".join(replace_command_docs(has_attr_list=True, **options)) + "\n")


def _missing_from(sections: dict[str, str]) -> list[str]:
    """The commands without a section, and the options not named in their command's section."""
    missing = []
    for name, command in cli.commands.items():
        if name not in sections:
            missing.append(f"autotune {name}")
        missing += [f"autotune {name} {opt}" for opt in _options(command) if not _mentions(sections.get(name, ""), opt)]
    return missing


def test_every_command_and_option_appears_in_the_reference():
    """The reference is generated, so this holds by construction; it fails if the page loses its block, an
    option is hidden from the help, or the page stops listing the subcommands."""
    text = _reference_markdown()
    marks = list(re.finditer(r"^### autotune ([a-z-]+) \{", text, re.M))
    sections = {
        m.group(1): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for i, m in enumerate(marks)
    }
    assert _missing_from(sections) == [], "not in the reference (docs/reference.md)"


def test_the_reference_check_sees_a_missing_option():
    sections = {name: " ".join(_options(command)) for name, command in cli.commands.items()}
    assert _missing_from(sections) == []
    sections["run"] = sections["run"].replace("--trials-per-gpu", "")
    del sections["studies"]
    studies = ["autotune studies", *(f"autotune studies {opt}" for opt in _options(cli.commands["studies"]))]
    assert _missing_from(sections) == ["autotune run --trials-per-gpu", *studies]


def _site_sections(html_page: str) -> dict[str, str]:
    """The built reference page cut at its `<h3 id="autotune-NAME">` headings, as text: name -> section."""
    import html

    marks = list(re.finditer(r'<h3 id="autotune-([a-z-]+)"', html_page))
    return {
        m.group(1): html.unescape(
            re.sub(r"<[^>]+>", "", html_page[m.end() : marks[i + 1].start() if i + 1 < len(marks) else None])
        )
        for i, m in enumerate(marks)
    }


def test_the_site_builds_strictly_with_every_command_and_option(tmp_path):
    """`mkdocs build --strict` (as scripts/test.sh runs it): no broken link or anchor, no bad page; and the built
    reference page holds every command and every name of every option, under that command's heading."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(REPO), NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "site" / "reference" / "index.html").read_text(encoding="utf-8")
    assert "::: mkdocs-click" not in page  # the block was expanded, not shown
    assert _missing_from(_site_sections(page)) == [], "not in the built reference page"


def test_every_top_level_spec_key_is_in_specs_md():
    text = (DOCS / "specs.md").read_text(encoding="utf-8")
    keys = _top_keys()
    assert {"dataset", "model", "space"} <= keys  # sanity: the set was found
    missing = sorted(k for k in keys if not re.search(rf"`{re.escape(k)}`|^{re.escape(k)}:", text, re.M))
    assert not missing, f"docs/specs.md does not document the spec keys {missing}"


def test_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text) <= README_LIMIT, f"README.md has {len(text)} characters; the limit is {README_LIMIT}"
    assert "docs/README.md" in text or "docs/commands.md" in text  # it points into the manual


@pytest.mark.parametrize(
    "path", [README, REPO / "CHANGELOG.md", *_doc_files()], ids=lambda p: p.relative_to(REPO).as_posix()
)
def test_relative_links_point_to_existing_files(path):
    assert broken_links(path) == []


def test_the_link_checker_sees_links_and_finds_a_broken_one(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("x")
    page.write_text(
        "[a](there.md) [b](there.md#part) ![c](missing.png) [d](https://example.org/x) [e](#top)\n"
        "`[f](in-code.md)`\n```\n[g](in-fence.md)\n```\n"
    )
    assert relative_links(page) == ["there.md", "there.md#part", "missing.png"]
    assert broken_links(page) == ["missing.png"]


def test_the_option_matcher_needs_a_whole_option():
    assert _mentions("use --trials N", "--trials")
    assert not _mentions("use --trials N", "--trial")
    assert _mentions("`-q`, `--quiet`", "-q")
    assert not _mentions("--quiet", "-q")


def _python_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [block.split("\n```", 1)[0] for block in text.split("```python\n")[1:]]


@pytest.mark.slow
def test_the_python_api_pages_first_example_runs_as_written(tmp_path, monkeypatch):
    """#31: its first example failed until make_glyphs.py had run, and the page did not say so. Here the page's
    own two steps run in a copy of the example: the command it names, then its Python block, unchanged."""
    import runpy
    import shutil
    import sys

    page = DOCS / "python-api.md"
    assert "python examples/glyphs/make_glyphs.py" in page.read_text(encoding="utf-8")
    shutil.copytree(
        REPO / "examples" / "glyphs", tmp_path / "examples" / "glyphs", ignore=shutil.ignore_patterns("data")
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["make_glyphs.py"])
    runpy.run_path(str(tmp_path / "examples" / "glyphs" / "make_glyphs.py"), run_name="__main__")
    printed = []
    monkeypatch.setattr("builtins.print", lambda *args, **kw: printed.append(args))
    exec(compile(_python_blocks(page)[0], str(page), "exec"), {"__name__": "docs_example"})
    assert printed[1][0] is True  # "the comparison prints True": the replay reproduces the stored value exactly
    assert (tmp_path / "glyphs.db").is_file()


def test_the_module_table_is_the_code():
    """docs/modules.md lists every module with its own docstring's first sentence, layer by layer."""
    import subprocess

    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "module_table.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_module_is_over_400_lines():
    """#33: a module one reads whole; a longer one is split by what its parts hold."""
    long = {
        p.relative_to(REPO).as_posix(): n
        for p in (REPO / "autotune").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_every_folder_of_the_package_is_a_layer_of_the_import_contract():
    table = load_script(REPO / "scripts" / "module_table.py")
    folders = {p.parent.name for p in (REPO / "autotune").glob("*/__init__.py")}
    assert set(table.layers()) == folders | {"api", "errors"}
    # at the top only the facade, the API and the errors: everything else lives in a layer's folder
    assert sorted(p.name for p in (REPO / "autotune").glob("*.py")) == ["__init__.py", "api.py", "errors.py"]


@pytest.mark.slow
def test_lint_imports_refuses_an_upward_import_and_a_cycle(tmp_path):
    """The contracts can fail: a copy of the package with a training module that imports the runner (upward, and
    Optuna through it) and a storage module that imports back what imports it breaks all three."""
    import shutil
    import subprocess

    lint = Path(sys.executable).parent / "lint-imports"

    def run(where: Path) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONPATH=str(where))
        return subprocess.run([str(lint), "--no-cache"], cwd=where, env=env, capture_output=True, text=True)

    assert run(REPO).returncode == 0
    shutil.copytree(REPO / "autotune", tmp_path / "autotune")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with open(tmp_path / "autotune" / "training" / "loop.py", "a") as f:
        f.write("\n\ndef _up():\n    from autotune.execution import runner  # noqa: F401\n")
    with open(tmp_path / "autotune" / "storage" / "studies.py", "a") as f:
        f.write("\n\ndef _back():\n    from autotune.storage import replays  # noqa: F401\n")
    done = run(tmp_path)
    assert done.returncode != 0
    assert "Contracts: 0 kept, 3 broken." in done.stdout
    assert "autotune.training is not allowed to import autotune.execution" in done.stdout
    assert "No cycles are allowed in autotune.storage." in done.stdout


def test_a_function_level_import_of_autotune_is_rare_and_says_what_it_keeps_off_the_import():
    """The layers leave no cycle to hide: an autotune module imported inside a function is there only to keep a heavy
    library (torch, optuna) off the import of its module, and the line above says which."""
    import ast

    found = []
    for path in sorted((REPO / "autotune").rglob("*.py")):
        if path == REPO / "autotune" / "__init__.py":  # the facade: every name on first use, by design
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("autotune"):
                        above = inner.lineno - 2
                        while lines[above].strip().startswith("from autotune"):  # one comment for a group
                            above -= 1
                        found.append((path.relative_to(REPO), inner.lineno, lines[above].strip()))
    assert 0 < len(found) <= 20
    why = "# imported here, not at the top: keeps"
    unexplained = [f"{p}:{n}" for p, n, above in found if not above.startswith(why)]
    assert not unexplained, unexplained


def test_the_site_hook_checks_links_out_of_the_manual(tmp_path):
    """scripts/mkdocs_hooks.py: a link to ../BENCHMARKS.md#section is kept only where the file and heading exist."""
    hooks = load_script(REPO / "scripts" / "mkdocs_hooks.py")
    assert hooks.github_slug("Report on a large study — `scripts/bench_report.py`") == (
        "report-on-a-large-study--scriptsbench_reportpy"
    )
    bench = tmp_path / "BENCHMARKS.md"
    bench.write_text("# Benchmarks\n\n## Stopping at the noise floor\n")
    link = hooks.outside_link
    assert link("BENCHMARKS.md", bench, None, "BENCHMARKS.md", None) == "`BENCHMARKS.md`"
    assert link("BENCHMARKS.md", bench, "stopping-at-the-noise-floor", "BENCHMARKS.md", None) == (
        "`BENCHMARKS.md`, section “Stopping at the noise floor”"
    )
    assert link("x", bench, "stopping-at-the-noise-floor", "BENCHMARKS.md", "https://example.org/r/") == (
        "[x](https://example.org/r/blob/HEAD/BENCHMARKS.md#stopping-at-the-noise-floor)"
    )
    assert link("BENCHMARKS.md", bench, "no-such-section", "BENCHMARKS.md", None) is None
    assert link("gone", tmp_path / "GONE.md", None, "GONE.md", None) is None
