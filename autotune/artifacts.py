"""Trial artifacts in Optuna's artifact store: learning curves and best-so-far checkpoints.

The store is a folder next to the database (``autotune.db`` → ``autotune-artifacts/``), or
``--artifact-dir`` / ``$AUTOTUNE_ARTIFACT_DIR``; ``autotune dashboard`` serves it, so a user can
open a trial's files from optuna-dashboard's trial view.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from autotune.errors import StorageError
from autotune.storage import sqlite_path

if TYPE_CHECKING:
    from torch import nn

    from autotune.train import FitResult


def artifact_dir(storage_url: str, explicit: str | os.PathLike | None = None) -> Path:
    """Where a storage's artifacts live: explicit, else $AUTOTUNE_ARTIFACT_DIR, else beside the SQLite file."""
    value = explicit or os.environ.get("AUTOTUNE_ARTIFACT_DIR")
    if value:
        return Path(value).expanduser()
    db = sqlite_path(storage_url)
    if db is not None:
        return db.with_name(db.stem + "-artifacts")
    return Path("autotune-artifacts")


def open_store(path: Path, *, create: bool = True) -> optuna.artifacts.FileSystemArtifactStore:
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create artifact folder '{path}': {exc.strerror or exc}") from None
    return optuna.artifacts.FileSystemArtifactStore(base_path=str(path))


def upload_json(store: Any, trial: optuna.Trial, name: str, data: Any) -> str:
    """Upload ``data`` as a JSON file called ``name``; returns the artifact id."""
    with tempfile.TemporaryDirectory(prefix="autotune-") as tmp:
        path = Path(tmp) / name
        path.write_text(json.dumps(data, indent=1))
        return optuna.artifacts.upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial,
                                                mimetype="application/json")


def learning_curve(result: FitResult) -> dict[str, list]:
    """Per-epoch metrics of a fit, as columns (non-finite numbers become null)."""
    import math

    def clean(v: float | None) -> float | None:
        return v if v is None or math.isfinite(v) else None

    return {
        "epoch": [h.epoch for h in result.history],
        "train_loss": [clean(h.train_loss) for h in result.history],
        "train_accuracy": [h.train_accuracy for h in result.history],
        "val_loss": [clean(h.val_loss) for h in result.history],
        "val_accuracy": [h.val_accuracy for h in result.history],
        "seconds": [round(h.seconds, 4) for h in result.history],
    }


def checkpoint_payload(model: nn.Module, *, family: str, config: dict[str, Any], input_shape: tuple[int, ...],
                       n_outputs: int, spec: dict[str, Any], seed: int) -> dict[str, Any]:
    """A checkpoint that rebuilds without the code that made it and loads with ``weights_only=True``."""
    import platform

    import torch

    from autotune import __version__

    return {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model": {"family": family, "input_shape": list(input_shape), "n_outputs": n_outputs, "config": config},
        "spec": spec,
        "seed": seed,
        "versions": {"autotune": __version__, "torch": str(torch.__version__), "optuna": optuna.__version__,
                     "python": platform.python_version()},
    }


def upload_checkpoint(store: Any, trial: optuna.Trial, payload: dict[str, Any]) -> str:
    import torch

    with tempfile.TemporaryDirectory(prefix="autotune-") as tmp:
        path = Path(tmp) / f"checkpoint-trial-{trial.number}.pt"
        torch.save(payload, path)
        return optuna.artifacts.upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial,
                                                mimetype="application/octet-stream")
