"""What every command that trains does before it touches a database: resolve the device, load
the data, check that model and data fit together, and place the data on the device.

A bad dataset, model builder or device therefore fails here, with one error line, and no
study, trial or replay is written.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from autotune.data.datasets import Splits, load_splits
from autotune.errors import DataError, ModelError
from autotune.hardware.devices import resolve_device, set_threads
from autotune.spec.study import StudySpec, cnn_depth_problem, deepest, value_range

if TYPE_CHECKING:
    import torch

#: Data are copied to a GPU when they take at most this share of its free memory (else batches are copied).
DEVICE_MEMORY_SHARE = 0.5


def prepare(spec: StudySpec, *, data_dir: str | os.PathLike | None = None, device: str | None = "cpu") -> Splits:
    """Load ``spec``'s training and validation data, checked against its model and placed on ``device``."""
    target = resolve_device(device)
    splits = load_splits(
        spec.dataset,
        validation_size=spec.validation_size,
        seed=spec.seed,
        train_subset=spec.train_subset,
        data_dir=data_dir,
    )
    check_model(spec, splits)
    return place(splits, target)


def check_model(spec: StudySpec, splits: Splits) -> None:
    """The model family can take these inputs; a custom builder builds a model with the right output;
    some batch size fits in the training split."""
    info = splits.info
    smallest = value_range(spec.space, spec.fixed, "batch_size")[0]  # an error only when no batch size fits
    if smallest > len(splits.train):
        raise DataError(
            f"batch_size {smallest} is larger than the {len(splits.train)} training examples of "
            f"'{info.name}'; lower it (or its range) or use more training data"
        )
    if spec.model == "cnn":
        if not info.is_image:
            raise DataError(
                f"model 'cnn' needs images (examples of shape channels x height x width); "
                f"dataset '{info.name}' has inputs of shape {info.shape} (use 'mlp' or your own model)"
            )
        problem = cnn_depth_problem(info.shape[1:], deepest(spec.space, spec.fixed, "channels"))
        if problem:
            raise DataError(problem)
    if spec.family == "custom":
        _check_builder(spec, splits)


def _check_builder(spec: StudySpec, splits: Splits) -> None:
    """Build the default configuration's model and run two examples through it."""
    import torch

    # imported here, not at the top: keeps optuna and torch off the import of this module
    from autotune.search.space import suggest
    from autotune.training.models import build_model

    info = splits.info
    model = build_model(spec.model, input_shape=info.shape, n_outputs=info.n_outputs, config=suggest(None, spec))
    x = splits.train.x[:2].cpu()
    try:
        with torch.no_grad():
            out = model.eval()(x)
    except Exception as exc:
        raise ModelError(
            f"the model from '{spec.model}' fails on a batch of inputs of shape {tuple(x.shape)}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    want = (len(x), info.n_outputs)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != want:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelError(
            f"the model from '{spec.model}' returns {got} for {len(x)} examples; expected a tensor of "
            f"shape {want} ({info.n_outputs} outputs for dataset '{info.name}')"
        )


def place(splits: Splits, device: str | torch.device) -> Splits:
    """Put the data on ``device`` when they fit in its free memory; otherwise keep them on the host
    (the trainer then copies each batch)."""
    import torch

    device = torch.device(device)
    if device.type == "cpu":
        return splits
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if splits.nbytes > DEVICE_MEMORY_SHARE * free:
            return splits
    return splits.to(device)


def replay_data(
    spec: StudySpec,
    threads: int | None,
    data_dir: str | os.PathLike | None,
    source_threads: Any = None,
    splits: Any = None,
) -> Any:
    """Set threads (the source trial's unless given) and load the data on the CPU, where replays are exact
    (``splits``: loaded there already)."""

    set_threads(threads or (source_threads if isinstance(source_threads, int) else None))
    return splits if splits is not None else prepare(spec, data_dir=data_dir, device="cpu")
