"""Training and evaluation as plain functions. Nothing here knows about Optuna.

Data sit in memory as tensors; an epoch is a seeded ``randperm`` sliced into batches, so no
``DataLoader`` is built and no worker processes are started. Losses and hits are summed on
the device and read back once per check, not after every batch. Data that live on the
model's device (see :func:`autotune.search.prepare.place`) are used in place; data kept on the host
are copied batch by batch.
"""

from __future__ import annotations

import functools
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from autotune.base.seeding import seed_everything
from autotune.data.datasets import Split, Splits
from autotune.hardware.precision import autocast, channels_last
from autotune.training.models import build_model, count_parameters

#: Batches between two checks for a non-finite loss: a diverged run stops within this many.
DIVERGENCE_CHECK_EVERY = 50
EVAL_BATCH_SIZE = 2048


@dataclass(frozen=True)
class EpochStats:
    """Metrics after one epoch. Training figures are running averages over the epoch."""

    epoch: int  # 1-based
    train_loss: float
    train_accuracy: float | None
    val_loss: float
    val_accuracy: float | None
    seconds: float


@dataclass
class FitResult:
    history: list[EpochStats] = field(default_factory=list)
    n_params: int = 0
    diverged: bool = False
    diverged_epoch: int | None = None
    stopped_early: bool = False  # the on_epoch callback asked to stop (pruning)
    seconds: float = 0.0
    #: Where ``seconds`` went: building the model and optimiser, training, evaluating on validation,
    #: and in the ``on_epoch`` callback (reporting to the study, the pruning decision, progress display).
    times: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("build", "train", "evaluate", "callback"), 0.0)
    )
    model: nn.Module | None = None

    @property
    def last(self) -> EpochStats | None:
        return self.history[-1] if self.history else None


def make_optimizer(model: nn.Module, config: dict[str, Any], step: str = "plain") -> torch.optim.Optimizer:
    """The configuration's optimiser over ``model``'s parameters; with ``step="fused"`` one fused kernel updates
    them all (see :mod:`autotune.hardware.steps`), else torch's default implementation."""
    lr, wd, name = config["lr"], config["weight_decay"], config["optimizer"]
    fused = {"fused": True} if step == "fused" else {}
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, weight_decay=wd, **fused)
    if name == "sgd_momentum":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd, **fused)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd, **fused)
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd, **fused)
    raise ValueError(f"unknown optimizer {name!r}")


def make_scheduler(optimizer: torch.optim.Optimizer, config: dict[str, Any], max_epochs: int):
    """``step``: ×0.1 every third of the budget; ``cosine``: to zero over the budget; stepped per epoch."""
    name = config["lr_schedule"]
    if name == "none":
        return None
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, max_epochs // 3), gamma=0.1)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs)
    raise ValueError(f"unknown lr_schedule {name!r}")


def augment_batch(x: torch.Tensor, generator: torch.Generator, step: str = "plain") -> torch.Tensor:
    """Random rotation (±10°) and shift (±2 px) of each image, edges padded with the border value.

    ``step="fused"`` draws the same angles and shifts but builds the sampling grid by broadcasting (five
    element-wise kernels) instead of ``affine_grid``'s batched matrix product: the same grid up to rounding."""
    b, _, h, w = x.shape
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(10)
    shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * 2.0
    if step == "fused":
        return F.grid_sample(x, _broadcast_grid(angle, shift, h, w, x), padding_mode="border", align_corners=False)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0] * 2 / w], 1), torch.stack([sin, cos, shift[:, 1] * 2 / h], 1)], 1
    ).to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def _broadcast_grid(angle: torch.Tensor, shift: torch.Tensor, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """``affine_grid``'s grid for rotations by ``angle`` and shifts by ``shift`` pixels, without align_corners:
    each output pixel's centre (x, y) in [-1, 1] goes to (cos x - sin y + tx, sin x + cos y + ty)."""
    b = angle.shape[0]
    cos, sin = torch.cos(angle).view(b, 1, 1), torch.sin(angle).view(b, 1, 1)
    tx, ty = (shift[:, 0] * 2 / w).view(b, 1, 1), (shift[:, 1] * 2 / h).view(b, 1, 1)
    xs = (torch.arange(w, dtype=torch.float32) * 2 + 1) / w - 1
    ys = ((torch.arange(h, dtype=torch.float32) * 2 + 1) / h - 1).view(h, 1)
    grid = torch.stack((cos * xs - sin * ys + tx, sin * xs + cos * ys + ty), dim=-1)
    return grid.to(like.device, like.dtype)


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: Split,
    *,
    batch_size: int,
    generator: torch.Generator,
    classification: bool,
    augment: bool = False,
    device: torch.device | str | None = None,
    precision: str = "fp32",
    step: str = "plain",
) -> tuple[float, float | None]:
    """One pass over ``data`` in a seeded random order. Returns (mean loss, accuracy or None).

    Stops early and returns a non-finite loss as soon as a check finds the loss diverged.
    ``device`` is the model's (default: the data's). With ``precision="bf16"`` the forward pass and
    the loss run under bf16 autocast; weights, gradients and optimiser state stay fp32. ``step`` is how the
    augmentation is computed (the optimiser was built for it: :func:`make_optimizer`).
    """
    model.train()
    n = len(data)
    device = data.x.device if device is None else torch.device(device)
    order = torch.randperm(n, generator=generator).to(data.x.device)  # drawn on the CPU: the same on any device
    loss_sum = torch.zeros((), device=device)
    hits = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    for batch, start in enumerate(range(0, n, batch_size)):
        idx = order[start : start + batch_size]
        xb, yb = data.x[idx].to(device, non_blocking=True), data.y[idx].to(device, non_blocking=True)
        if augment:
            xb = augment_batch(xb, generator, step)
        with autocast(device, precision):
            out = model(xb)
            loss = F.cross_entropy(out, yb) if classification else F.mse_loss(out, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(idx)
        if classification:
            hits += (out.detach().argmax(1) == yb).sum()
        seen += len(idx)
        if batch % DIVERGENCE_CHECK_EVERY == DIVERGENCE_CHECK_EVERY - 1 and not torch.isfinite(loss_sum):
            return math.inf, None
    mean_loss = float(loss_sum) / seen
    return mean_loss, (int(hits) / seen if classification else None)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Split,
    *,
    classification: bool,
    device: torch.device | str | None = None,
    precision: str = "fp32",
) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for regression) over ``data``, in large batches on ``device``
    (the model's; default: the data's). The forward pass runs in ``precision`` (bf16: autocast); the
    losses are taken in fp32 from its outputs and summed in fp64."""
    model.eval()
    device = data.x.device if device is None else torch.device(device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    hits = torch.zeros((), dtype=torch.long, device=device)
    for start in range(0, len(data), EVAL_BATCH_SIZE):
        xb = data.x[start : start + EVAL_BATCH_SIZE].to(device, non_blocking=True)
        yb = data.y[start : start + EVAL_BATCH_SIZE].to(device, non_blocking=True)
        with autocast(device, precision):
            out = model(xb)
        out = out.float()
        if classification:
            loss_sum += F.cross_entropy(out, yb, reduction="sum")
            hits += (out.argmax(1) == yb).sum()
        else:
            loss_sum += F.mse_loss(out, yb, reduction="sum") / yb.shape[1]
    n = len(data)
    return float(loss_sum) / n, (int(hits) / n if classification else None)


@functools.cache
def _warm_up() -> None:
    """Pay torch's one-off costs outside any trial's time: the first optimizer built in a process
    imports torch._dynamo (~2 s here), which made the first trial of every run look 50x slower."""
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def seeded_model(
    config: dict[str, Any],
    splits: Splits,
    *,
    family: str,
    seed: int,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
) -> nn.Module:
    """The model a run with ``seed`` starts from: every generator seeded with ``seed``, then the model built on
    ``device`` (channels-last where ``precision`` wants it). :func:`fit` and the seed-batched
    :func:`autotune.training.seed_batch.fit_seeds` both start from it."""
    seed_everything(seed)
    info = splits.info
    model = build_model(family, input_shape=info.shape, n_outputs=info.n_outputs, config=config).to(device)
    if channels_last(family, precision):
        model = model.to(memory_format=torch.channels_last)
    return model


def fit(
    config: dict[str, Any],
    splits: Splits,
    *,
    family: str,
    max_epochs: int,
    seed: int,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    step: str = "plain",
    on_epoch: Callable[[EpochStats], bool] | None = None,
    evaluate_val: bool = True,
) -> FitResult:
    """Train a fresh model with ``config`` for up to ``max_epochs``, evaluating on validation each epoch.

    ``on_epoch`` is called after every epoch; returning True stops training (used for pruning).
    With ``evaluate_val=False`` (final retraining on train+validation) no split is evaluated and
    the validation figures are NaN/None. ``precision`` is ``fp32`` or ``bf16`` (resolved already: see
    :func:`autotune.hardware.precision.resolve`); ``step`` is ``plain`` or ``fused`` (see
    :mod:`autotune.hardware.steps`). On the CPU, the same config, data, seed, precision and step give
    bit-identical results.
    """
    _warm_up()  # once per process, before the clock starts
    start = time.perf_counter()
    # Denormal floats (tiny activations after zeros/sparse inits) make CPU math ~10x slower.
    torch.set_flush_denormal(True)
    generator = torch.Generator().manual_seed(seed)
    info = splits.info
    classification = info.task == "classification"
    model = seeded_model(config, splits, family=family, seed=seed, device=device, precision=precision)
    optimizer = make_optimizer(model, config, step)
    scheduler = make_scheduler(optimizer, config, max_epochs)
    train, val = splits.train, splits.val
    result = FitResult(n_params=count_parameters(model), model=model)
    times = result.times
    times["build"] = time.perf_counter() - start
    for epoch in range(1, max_epochs + 1):
        t0 = time.perf_counter()
        train_loss, train_acc = train_one_epoch(
            model,
            optimizer,
            train,
            batch_size=config["batch_size"],
            generator=generator,
            classification=classification,
            augment=bool(config.get("augment")) and info.is_image,
            device=device,
            precision=precision,
            step=step,
        )
        t1 = time.perf_counter()
        val_loss, val_acc = (
            evaluate(model, val, classification=classification, device=device, precision=precision)
            if evaluate_val
            else (math.nan, None)
        )
        t2 = time.perf_counter()
        times["train"] += t1 - t0
        times["evaluate"] += t2 - t1
        stats = EpochStats(epoch, train_loss, train_acc, val_loss, val_acc, t2 - t0)
        result.history.append(stats)
        if not (math.isfinite(train_loss) and (math.isfinite(val_loss) or not evaluate_val)):
            result.diverged, result.diverged_epoch = True, epoch
            break
        if scheduler is not None:
            scheduler.step()
        t3 = time.perf_counter()
        stop = on_epoch is not None and on_epoch(stats)
        times["callback"] += time.perf_counter() - t3
        if stop:
            result.stopped_early = True
            break
    result.seconds = time.perf_counter() - start
    return result


LATENCY_BATCH = 256


@torch.no_grad()
def latency_ms(
    model: nn.Module, x: torch.Tensor, *, warmup: int = 3, repeats: int = 15, precision: str = "fp32"
) -> float:
    """Inference time per sample in ms: the median over ``repeats`` forward passes of the batch ``x``
    (in eval mode, on ``x``'s device, in ``precision``), after ``warmup`` passes that are not timed."""
    model.eval()
    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    with autocast(x.device, precision):
        for _ in range(warmup):
            model(x)
        sync()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            sync()
            times.append(time.perf_counter() - t0)
    return statistics.median(times) / len(x) * 1000.0
