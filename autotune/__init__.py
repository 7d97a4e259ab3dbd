"""autotune: automated, reproducible hyperparameter search for small PyTorch networks.

The public API (the CLI is a thin layer over these)::

    from autotune import load_spec, run_study
    summary = run_study(load_spec("mlp-digits"), n_trials=20, storage="sqlite:///autotune.db")
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import Any

from autotune.errors import AutotuneError, DataError, Interrupted, SpecError, StorageError, StudyNotFoundError

# Heavy modules (optuna, torch) load on first use, so `autotune --help` stays instant.
_LAZY = {
    "RunSummary": "autotune.runner",
    "run_study": "autotune.runner",
    "StudySpec": "autotune.spec",
    "load_spec": "autotune.spec",
    "parse_spec": "autotune.spec",
    "shipped_specs": "autotune.spec",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autotune' has no attribute {name!r}")

__all__ = [
    "AutotuneError",
    "DataError",
    "Interrupted",
    "RunSummary",
    "SpecError",
    "StorageError",
    "StudyNotFoundError",
    "StudySpec",
    "__version__",
    "load_spec",
    "parse_spec",
    "run_study",
    "shipped_specs",
]
