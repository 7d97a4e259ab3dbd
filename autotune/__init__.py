"""autotune: automated, reproducible hyperparameter search for small PyTorch networks.

The public API (each CLI command is a thin layer over one of these)::

    import autotune
    spec = autotune.load_spec("mlp-digits")              # a shipped name, a YAML path, or parse_spec({...})
    summary = autotune.run_study(spec, n_trials=20, storage="sqlite:///autotune.db")
    result = autotune.report("mlp-digits", storage="sqlite:///autotune.db")
    exported = autotune.export("mlp-digits", storage="sqlite:///autotune.db", seeds=3)
    again = autotune.replay("mlp-digits", trial="best", seeds=3, storage="sqlite:///autotune.db")
    sure = autotune.confirm("mlp-digits", top=5, seeds=3, storage="sqlite:///autotune.db")
    hand = autotune.import_table("mlp-mnist", "hand-grid.csv", storage="sqlite:///autotune.db")  # `autotune import`
    job = autotune.submit_slurm(spec, workers=8, n_trials=200, storage="postgresql+psycopg://...")  # `autotune slurm`
    summary = autotune.run_on_ray(spec, workers=8, n_trials=200, address="auto",
                                  storage="postgresql+psycopg://...")  # `autotune run --ray auto`

See docs/python-api.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from autotune.base.version import __version__
from autotune.errors import (
    AutotuneError,
    CheckpointError,
    ConfigError,
    DashboardError,
    DataError,
    DeviceError,
    Interrupted,
    ModelError,
    OptionError,
    SchedulerError,
    SpecError,
    StorageError,
    StudyNotFoundError,
    TableError,
    TrialNotFoundError,
    WorkerError,
)

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load lazily (below)
    from autotune.api import (
        AblationResult,
        ConfirmResult,
        ExportResult,
        ImportResult,
        ReplayResult,
        ReportResult,
        SweepResult,
        ablate,
        best_config,
        confirm,
        export,
        import_table,
        list_studies,
        load_study,
        replay,
        replay_config,
        report,
        sweep,
    )
    from autotune.execution.ray_workers import run as run_on_ray
    from autotune.execution.run_summary import RunSummary
    from autotune.execution.runner import join_study, run_study
    from autotune.execution.slurm import SlurmJob
    from autotune.execution.slurm import submit as submit_slurm
    from autotune.spec.study import StudySpec, load_spec, parse_spec, shipped_specs
    from autotune.storage.artifacts import load_checkpoint

# Heavy modules (optuna, torch) load on first use, so `autotune --help` stays instant.
_LAZY = {
    **{
        name: "autotune.api"
        for name in (
            "AblationResult",
            "ConfirmResult",
            "ExportResult",
            "ImportResult",
            "ReplayResult",
            "ReportResult",
            "SweepResult",
            "ablate",
            "best_config",
            "confirm",
            "export",
            "import_table",
            "list_studies",
            "load_study",
            "replay",
            "replay_config",
            "report",
            "sweep",
        )
    },
    "load_checkpoint": "autotune.storage.artifacts",
    "RunSummary": "autotune.execution.run_summary",
    "join_study": "autotune.execution.runner",
    "run_study": "autotune.execution.runner",
    "run_on_ray": "autotune.execution.ray_workers",
    "SlurmJob": "autotune.execution.slurm",
    "submit_slurm": "autotune.execution.slurm",
    "StudySpec": "autotune.spec.study",
    "load_spec": "autotune.spec.study",
    "parse_spec": "autotune.spec.study",
    "shipped_specs": "autotune.spec.study",
}

_RENAMED = {"submit_slurm": "submit", "run_on_ray": "run"}  # public name -> the module's own


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), _RENAMED.get(name, name))
    raise AttributeError(f"module 'autotune' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AblationResult",
    "AutotuneError",
    "CheckpointError",
    "ConfigError",
    "ConfirmResult",
    "DashboardError",
    "DataError",
    "DeviceError",
    "ExportResult",
    "ImportResult",
    "Interrupted",
    "ModelError",
    "OptionError",
    "ReplayResult",
    "ReportResult",
    "RunSummary",
    "SchedulerError",
    "SlurmJob",
    "SpecError",
    "StorageError",
    "StudyNotFoundError",
    "StudySpec",
    "SweepResult",
    "TableError",
    "TrialNotFoundError",
    "WorkerError",
    "__version__",
    "ablate",
    "best_config",
    "confirm",
    "export",
    "import_table",
    "join_study",
    "list_studies",
    "load_checkpoint",
    "load_spec",
    "load_study",
    "parse_spec",
    "replay",
    "replay_config",
    "report",
    "run_on_ray",
    "run_study",
    "shipped_specs",
    "submit_slurm",
    "sweep",
]
