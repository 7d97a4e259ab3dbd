"""Where autotune finds its shipped study specs and keeps its writable cache."""

from __future__ import annotations

import os
from pathlib import Path

#: The study specs that ship with autotune: ``autotune/studies/*.yaml``, package data in the
#: ``autotune`` package, so an editable install and an installed wheel find them the same way.
STUDIES_DIR = Path(__file__).resolve().parent.parent / "studies"


def cache_dir() -> Path:
    """The writable cache: ``$AUTOTUNE_CACHE_DIR``, else ``$XDG_CACHE_HOME/autotune``."""
    explicit = os.environ.get("AUTOTUNE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "autotune"
