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

from autotune.base.output_folders import writable_problem
from autotune.base.version import __version__
from autotune.errors import AutotuneError, CheckpointError, StorageError
from autotune.storage.studies import sqlite_path

if TYPE_CHECKING:
    from torch import nn

    from autotune.training.loop import FitResult


def artifact_dir(storage_url: str, explicit: str | os.PathLike | None = None) -> Path:
    """Where a storage's artifacts live: explicit, else $AUTOTUNE_ARTIFACT_DIR, else beside the SQLite file."""
    value = explicit or os.environ.get("AUTOTUNE_ARTIFACT_DIR")
    if value:
        return Path(value).expanduser()
    db = sqlite_path(storage_url)
    if db is not None:
        return db.with_name(db.stem + "-artifacts")
    return Path("autotune-artifacts")


def check_folder(path: Path) -> None:
    """Refuse an artifact folder that cannot be written (read-only, full, under a file), creating nothing."""

    problem = writable_problem(path)
    if problem is not None:
        raise StorageError(f"cannot write to artifact folder '{path}': {problem}")


def open_store(path: Path, *, create: bool = True) -> optuna.artifacts.FileSystemArtifactStore:
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot write to artifact folder '{path}': {exc.strerror or exc}") from None
        check_folder(path)  # a read-only or full folder fails here, before any trial, not after one has trained
    return optuna.artifacts.FileSystemArtifactStore(base_path=str(path))


def upload_json(store: Any, trial: optuna.Trial, name: str, data: Any) -> str:
    """Upload ``data`` as a JSON file called ``name``; returns the artifact id."""
    with tempfile.TemporaryDirectory(prefix="autotune-") as tmp:
        path = Path(tmp) / name
        path.write_text(json.dumps(data, indent=1))
        return optuna.artifacts.upload_artifact(
            artifact_store=store, file_path=str(path), study_or_trial=trial, mimetype="application/json"
        )


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


def checkpoint_payload(
    model: nn.Module,
    *,
    family: str,
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    n_outputs: int,
    spec: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """A checkpoint that rebuilds without the code that made it and loads with ``weights_only=True``."""
    import platform

    import torch

    return {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model": {"family": family, "input_shape": list(input_shape), "n_outputs": n_outputs, "config": config},
        "spec": spec,
        "seed": seed,
        "versions": {
            "autotune": __version__,
            "torch": str(torch.__version__),
            "optuna": optuna.__version__,
            "python": platform.python_version(),
        },
    }


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model a checkpoint (``export``'s model.pt, a trial's checkpoint artifact) holds.

    Loads with ``weights_only=True`` only: a file that carries anything but tensors and plain
    data (a pickle payload that would run code) is refused, never executed. Returns the model
    (in eval mode, on the CPU) and the whole payload (config, spec, seed, normalisation, …).
    """
    import pickle
    import zipfile

    import torch

    # imported here, not at the top: keeps torch off the import of this module
    from autotune.training.models import build_model

    if not Path(path).is_file():
        raise CheckpointError(f"cannot read checkpoint '{path}': No such file or directory")
    damaged = f"'{path}' is not a readable torch checkpoint (damaged or another format)"
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; anything else is damaged or foreign
        raise CheckpointError(damaged)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).split("WeightsUnpickler error:")[-1].strip().splitlines()[0]
        raise CheckpointError(
            f"checkpoint '{path}' carries more than tensors and plain data ({detail}); refused: "
            "autotune loads checkpoints with weights_only=True and never runs code from one"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{damaged}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    info = payload.get("model") if isinstance(payload, dict) else None
    if not (
        isinstance(info, dict)
        and {"family", "input_shape", "n_outputs", "config"} <= set(info)
        and isinstance(payload.get("state_dict"), dict)
    ):
        raise CheckpointError(f"'{path}' is a torch file but not an autotune checkpoint (no 'model' and 'state_dict')")
    try:
        model = build_model(
            info["family"], input_shape=tuple(info["input_shape"]), n_outputs=info["n_outputs"], config=info["config"]
        )
        model.load_state_dict(payload["state_dict"])
    except AutotuneError:
        raise
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"checkpoint '{path}' does not fit the model it describes: {str(exc).splitlines()[0]}"
        ) from None
    return model.eval(), payload


def upload_checkpoint(store: Any, trial: optuna.Trial, payload: dict[str, Any]) -> str:
    import torch

    with tempfile.TemporaryDirectory(prefix="autotune-") as tmp:
        path = Path(tmp) / f"checkpoint-trial-{trial.number}.pt"
        torch.save(payload, path)
        return optuna.artifacts.upload_artifact(
            artifact_store=store, file_path=str(path), study_or_trial=trial, mimetype="application/octet-stream"
        )
