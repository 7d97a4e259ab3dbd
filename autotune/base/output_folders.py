"""Output folders (``--out``, ``--artifact-dir``): checked before any training or database write.

A folder that cannot be written (under a file, on a read-only or full disk, inside ``/proc``)
is refused with one line naming it, and nothing is created: the check makes and removes one
empty probe folder in the nearest folder that exists.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from autotune.errors import OutputError


def writable_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be created or written as a folder, or None when it can."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        return "it is a file, not a folder"
    existing = path if path.is_dir() else next(p for p in path.absolute().parents if p.exists())
    if not existing.is_dir():
        return f"'{existing}' is a file, not a folder"
    try:
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".autotune-write-test-"))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return reason if existing == path else f"'{existing}' does not let a folder be made in it ({reason})"
    return None


def check_output_folder(path: str | os.PathLike, *, option: str = "--out") -> Path:
    """``path`` as a Path if it can be written as a folder, else an :class:`OutputError` naming it."""
    problem = writable_problem(path)
    if problem is not None:
        raise OutputError(f"cannot write to {option} folder '{path}': {problem}; nothing was written")
    return Path(path)


def check_output_file(path: str | os.PathLike, *, option: str, suffix: str) -> Path:
    """``path`` as a Path if a file with ``suffix`` can be written there (its folder exists and is writable, and it
    is not a folder), else an :class:`OutputError` naming it."""
    path = Path(path).expanduser()
    problem = None
    if path.suffix.lower() != suffix:
        problem = f"its name must end in {suffix}"
    elif path.is_dir():
        problem = "it is a folder"
    elif not path.parent.absolute().is_dir():
        problem = f"its folder '{path.parent}' does not exist"
    elif not os.access(path.parent.absolute(), os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = "it cannot be written (permission denied)"
    if problem is not None:
        raise OutputError(f"cannot write {option} '{path}': {problem}; nothing was written")
    return path


def default_folder(kind: str, study_name: str, lang: str = "en") -> str:
    """``report-<study>`` (``ablation-``, ``sweep-``); another language writes beside it (``report-<study>-zh``),
    never over it."""
    return f"{kind}-{study_name}" + ("" if lang == "en" else f"-{lang}")
