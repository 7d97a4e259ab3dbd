"""MkDocs hook (mkdocs.yml `hooks:`): the manual's links to files outside docs/, checked and made readable on the site.

docs/*.md link to files of the repository beside the manual (../BENCHMARKS.md#a-section, ../CHANGELOG.md,
../examples/glyphs/README.md). Those work on a forge and in an editor, but the site holds only docs/, so MkDocs
would call them broken. Here each such link is checked: the file must exist, and an anchor must be the GitHub slug
of one of its headings; anything else is a warning, which fails `mkdocs build --strict`. A link that holds becomes a
link to the file in the source repository when mkdocs.yml sets `repo_url`, else the file's path and section in
words.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.outside_links")

# [text](../path#anchor): a relative link that climbs out of docs/
_OUTSIDE = re.compile(r"(?<!!)\[([^\]]+)\]\((\.\./[^)\s#]+)(?:#([^)\s]+))?\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen."""
    text = re.sub(r"[`*]", "", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _headings(path: Path) -> dict[str, str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {github_slug(h): re.sub(r"`", "", h) for h in _HEADING.findall(text)}


def outside_link(text: str, target: Path, anchor: str | None, repo_path: str, repo_url: str | None) -> str | None:
    """The Markdown that replaces one link out of docs/, or None where the link is broken."""
    if not target.is_file():
        return None
    section = None
    if anchor:
        section = _headings(target).get(anchor)
        if section is None:
            return None
    if repo_url:
        return f"[{text}]({repo_url.rstrip('/')}/blob/HEAD/{repo_path}{'#' + anchor if anchor else ''})"
    where = f"`{repo_path}`" + (f", section “{section}”" if section else "")
    return where if text.strip("`") == repo_path else f"{text} ({where})"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"]).resolve()
    root = docs_dir.parent
    page_dir = (docs_dir / page.file.src_uri).parent

    def replace(match: re.Match) -> str:
        text, link, anchor = match.groups()
        target = (page_dir / link).resolve()
        try:
            repo_path = target.relative_to(root).as_posix()
        except ValueError:
            repo_path = None
        new = outside_link(text, target, anchor, repo_path, config.get("repo_url")) if repo_path else None
        if new is None:
            log.warning(
                "Doc file '%s' links to '%s%s', which is not a file (or heading) of the repository",
                page.file.src_uri,
                link,
                "#" + anchor if anchor else "",
            )
            return match.group(0)
        return new

    return _OUTSIDE.sub(replace, markdown)
