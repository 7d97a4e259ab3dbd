"""Where autotune finds its shipped study specs and keeps its writable cache."""

from __future__ import annotations

import functools
import importlib.resources
import os
from pathlib import Path

#: The folder of the study specs that ship with autotune in a checkout: ``studies/`` beside the package.
CHECKOUT_STUDIES = Path(__file__).resolve().parent.parent.parent / "studies"


@functools.cache
def studies_dir() -> Path:
    """The shipped study specs (``*.yaml``): the package ``autotune.studies``, which pyproject.toml maps to
    ``studies/`` at the top of the repository. A wheel installs it inside the package and an editable install maps
    it there, so both find it through the import system; a bare checkout on ``sys.path`` finds it beside the
    package."""
    try:
        return Path(str(importlib.resources.files("autotune.studies")))
    except ModuleNotFoundError:
        return CHECKOUT_STUDIES


def cache_dir() -> Path:
    """The writable cache: ``$AUTOTUNE_CACHE_DIR``, else ``$XDG_CACHE_HOME/autotune``."""
    explicit = os.environ.get("AUTOTUNE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "autotune"
