"""Seed-batched training: the K seeds of one configuration trained at once, as one batched model.

The K runs share every shape, so their weights are stacked along a new first dimension
(:func:`torch.func.stack_module_state`) and one forward and backward pass, vectorised over the seeds with
:func:`torch.func.vmap`, serves all K. Each seed keeps what its own run would have:

- its initialisation: the model is built after seeding every generator with the seed, as :func:`fit` does;
- its data order and augmentation: a generator seeded with the seed draws the order of each epoch and the
  augmentation of each batch, in the same sequence as its own run;
- its own gradients: the loss is the sum of the K seeds' mean losses, so seed k's weights get the gradient of its
  own loss only, and the optimiser's update is element-wise.

Two things differ from K runs one after another, so a batched run is its own protocol, recorded as such:

- the dropout masks are drawn for all K seeds at once, from torch's generator seeded with the first seed;
- the sums of the batched kernels are taken in another order, so the numbers differ in the last bits.

A batched run therefore replays bit-exactly when it is batched the same way (the same seeds in the same order,
recorded with each run), not number for number against the seeds' separate runs. On the CPU it measured no faster
than the runs one after another (BENCHMARKS.md, "Seed-batched runs"), so it is an option; batching many small models
is what is known to pay on a GPU.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from autotune.base.seeding import seed_everything
from autotune.data.datasets import Split, Splits
from autotune.hardware.precision import autocast
from autotune.training.loop import (
    DIVERGENCE_CHECK_EVERY,
    EVAL_BATCH_SIZE,
    EpochStats,
    FitResult,
    _warm_up,
    augment_batch,
    make_optimizer,
    make_scheduler,
    seeded_model,
)
from autotune.training.models import count_parameters


class SeedBatch(nn.Module):
    """K models of one shape as one module whose parameters are the K models' stacked along dimension 0.

    ``forward(x)`` takes ``x`` of shape (K, B, ...) (each seed its own batch) or, with ``shared=True``, (B, ...)
    (one batch for all), and returns (K, B, outputs)."""

    def __init__(self, models: Sequence[nn.Module]) -> None:
        super().__init__()
        self.k = len(models)
        params, buffers = stack_module_state(list(models))
        names = sorted(params)
        self._param_names = names
        self.stacked = nn.ParameterList([nn.Parameter(params[n]) for n in names])
        self._buffer_names = sorted(buffers)
        for i, n in enumerate(self._buffer_names):
            self.register_buffer(f"b{i}", buffers[n])
        self._base = [copy.deepcopy(models[0]).to("meta")]  # a list: not a submodule, so not in parameters()

    def _state(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        params = dict(zip(self._param_names, self.stacked, strict=True))
        buffers = {n: getattr(self, f"b{i}") for i, n in enumerate(self._buffer_names)}
        return params, buffers

    def stacked_parameter(self, name: str) -> torch.Tensor:
        """The K seeds' values of the models' parameter ``name`` (e.g. ``net.1.weight``), stacked."""
        return self.stacked[self._param_names.index(name)]

    def forward(self, x: torch.Tensor, *, shared: bool = False) -> torch.Tensor:
        base = self._base[0]
        base.train(self.training)

        def one(params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], xb: torch.Tensor) -> torch.Tensor:
            return functional_call(base, (params, buffers), (xb,))

        params, buffers = self._state()
        return vmap(one, in_dims=(0, 0, None if shared else 0), randomness="different")(params, buffers, x)

    def unstack(self, models: Sequence[nn.Module]) -> None:
        """Copy seed k's weights and buffers into ``models[k]`` (models of the same shape)."""
        params, buffers = self._state()
        with torch.no_grad():
            for k, model in enumerate(models):
                for name, tensor in model.named_parameters():
                    tensor.copy_(params[name][k])
                for name, tensor in model.named_buffers():
                    tensor.copy_(buffers[name][k])


def fit_seeds(
    config: dict[str, Any],
    splits: Splits,
    *,
    family: str,
    max_epochs: int,
    seeds: Sequence[int],
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    step: str = "plain",
    evaluate_val: bool = True,
) -> list[FitResult]:
    """Train ``config`` once per seed in ``seeds``, all at once (see the module docstring), for ``max_epochs``
    with no pruning, evaluating each seed on validation after every epoch (not with ``evaluate_val=False``, the
    final retraining on train+validation, whose validation figures are NaN/None, as :func:`fit` leaves them).

    Returns one :class:`FitResult` per seed, in order, whose ``model`` holds that seed's trained weights. A seed
    whose loss diverges ends its history at that epoch, as its own run would; the others train on. The same
    config, data, seeds (in the same order), precision and step give bit-identical results on the CPU."""
    if not seeds:
        return []
    _warm_up()
    start = time.perf_counter()
    torch.set_flush_denormal(True)
    info = splits.info
    classification = info.task == "classification"
    # each seed's initialisation, as its own run draws it
    models = [seeded_model(config, splits, family=family, seed=s, device=device, precision=precision) for s in seeds]
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    seed_everything(seeds[0])  # the dropout masks, drawn for all seeds at once
    batch = SeedBatch(models)
    optimizer = make_optimizer(batch, config, step)
    scheduler = make_scheduler(optimizer, config, max_epochs)
    results = [FitResult(n_params=count_parameters(m), model=m) for m in models]
    build = time.perf_counter() - start
    live = list(range(len(seeds)))
    augment = bool(config.get("augment")) and info.is_image
    for epoch in range(1, max_epochs + 1):
        t0 = time.perf_counter()
        train = _train_epoch(
            batch,
            optimizer,
            splits.train,
            config["batch_size"],
            generators,
            classification,
            augment,
            device,
            precision,
            step,
        )
        t1 = time.perf_counter()
        val = (
            _evaluate(batch, splits.val, classification, device, precision)
            if evaluate_val
            else [(math.nan, None)] * len(seeds)
        )
        t2 = time.perf_counter()
        share = len(live)  # the seeds still training share the epoch's time
        for k in list(live):
            (train_loss, train_acc), (val_loss, val_acc) = train[k], val[k]
            result = results[k]
            result.history.append(EpochStats(epoch, train_loss, train_acc, val_loss, val_acc, (t2 - t0) / share))
            result.times["train"] += (t1 - t0) / share
            result.times["evaluate"] += (t2 - t1) / share
            if not (math.isfinite(train_loss) and (math.isfinite(val_loss) or not evaluate_val)):
                result.diverged, result.diverged_epoch = True, epoch
                live.remove(k)
        if not live:
            break
        if scheduler is not None:
            scheduler.step()
    batch.unstack(models)
    seconds = time.perf_counter() - start
    for result in results:
        result.times["build"] = build / len(seeds)
        result.seconds = seconds / len(seeds)
    return results


def _train_epoch(
    batch: SeedBatch,
    optimizer: torch.optim.Optimizer,
    data: Split,
    batch_size: int,
    generators: Sequence[torch.Generator],
    classification: bool,
    augment: bool,
    device: torch.device | str,
    precision: str,
    step: str,
) -> list[tuple[float, float | None]]:
    """One pass over ``data`` for every seed, each in its own seeded order; (mean loss, accuracy) per seed.
    A seed whose loss is not finite gets an infinite loss; the others train the whole epoch."""
    batch.train()
    n, k = len(data), batch.k
    orders = torch.stack([torch.randperm(n, generator=g) for g in generators]).to(data.x.device)
    loss_sums = torch.zeros(k, device=device)
    hits = torch.zeros(k, dtype=torch.long, device=device)
    seen = 0
    for i, first in enumerate(range(0, n, batch_size)):
        idx = orders[:, first : first + batch_size]  # (K, B): each seed's own batch
        b = idx.shape[1]
        xb = data.x[idx.reshape(-1)].to(device, non_blocking=True)
        yb = data.y[idx.reshape(-1)].to(device, non_blocking=True)
        if augment:  # each seed's angles and shifts from its own generator, in its own run's sequence
            xb = torch.cat([augment_batch(part, g, step) for part, g in zip(xb.split(b), generators, strict=True)])
        with autocast(device, precision):
            out = batch(xb.reshape(k, b, *xb.shape[1:]))
            flat = out.reshape(k * b, *out.shape[2:])
            per_sample = (
                F.cross_entropy(flat, yb, reduction="none")
                if classification
                else F.mse_loss(flat, yb, reduction="none").mean(dim=tuple(range(1, flat.dim())))
            )
            losses = per_sample.reshape(k, b).mean(dim=1)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
        loss_sums += losses.detach().float() * b
        if classification:
            hits += (out.detach().argmax(-1) == yb.reshape(k, b)).sum(dim=1)
        seen += b
        if i % DIVERGENCE_CHECK_EVERY == DIVERGENCE_CHECK_EVERY - 1 and not bool(torch.isfinite(loss_sums).any()):
            break  # every seed diverged; one that did leaves the others' epoch whole (its weights are its own)
    means = [float(v) / seen for v in loss_sums]
    return [
        (m if math.isfinite(m) else math.inf, (int(h) / seen if classification else None) if math.isfinite(m) else None)
        for m, h in zip(means, hits, strict=True)
    ]


@torch.no_grad()
def _evaluate(
    batch: SeedBatch, data: Split, classification: bool, device: torch.device | str, precision: str
) -> list[tuple[float, float | None]]:
    """Each seed's mean validation loss and accuracy, as :func:`autotune.training.loop.evaluate` takes them."""
    batch.eval()
    k = batch.k
    loss_sums = torch.zeros(k, dtype=torch.float64, device=device)
    hits = torch.zeros(k, dtype=torch.long, device=device)
    for first in range(0, len(data), EVAL_BATCH_SIZE):
        xb = data.x[first : first + EVAL_BATCH_SIZE].to(device, non_blocking=True)
        yb = data.y[first : first + EVAL_BATCH_SIZE].to(device, non_blocking=True)
        with autocast(device, precision):
            out = batch(xb, shared=True)
        out = out.float()
        for s in range(k):
            if classification:
                loss_sums[s] += F.cross_entropy(out[s], yb, reduction="sum")
                hits[s] += (out[s].argmax(1) == yb).sum()
            else:
                loss_sums[s] += F.mse_loss(out[s], yb, reduction="sum") / yb.shape[1]
    n = len(data)
    return [
        (float(loss) / n, (int(h) / n if classification else None)) for loss, h in zip(loss_sums, hits, strict=True)
    ]
