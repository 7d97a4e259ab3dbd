"""autotune: automated, reproducible hyperparameter search for small PyTorch networks.

The public API (the CLI is a thin layer over these)::

    import autotune
    spec = autotune.load_spec("mlp-digits")              # a shipped name, a YAML path, or parse_spec({...})
    summary = autotune.run_study(spec, n_trials=20, storage="sqlite:///autotune.db")
    best = autotune.best_config(spec, storage="sqlite:///autotune.db")
    again = autotune.replay_config(spec, best["config"], seeds=3)
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import Any

from autotune.errors import (AutotuneError, CheckpointError, DataError, DeviceError, Interrupted, ModelError, SpecError, StorageError,
                             StudyNotFoundError)

# Heavy modules (optuna, torch) load on first use, so `autotune --help` stays instant.
_LAZY = {
    "best_config": "autotune.api",
    "load_checkpoint": "autotune.artifacts",
    "load_study": "autotune.api",
    "replay_config": "autotune.api",
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
    "CheckpointError",
    "DataError",
    "DeviceError",
    "Interrupted",
    "ModelError",
    "RunSummary",
    "SpecError",
    "StorageError",
    "StudyNotFoundError",
    "StudySpec",
    "__version__",
    "best_config",
    "load_checkpoint",
    "load_spec",
    "load_study",
    "parse_spec",
    "replay_config",
    "run_study",
    "shipped_specs",
]
