"""Benchmark: do K seeds of one configuration train faster as one batched model than one after another (#32)?

For trial 16's configuration (an MLP with batch norm, dropout, AdamW, augmentation; scripts/data/mlp-mnist-trial16.json)
it times one epoch over the same images, K seeds each:

- sequential: K runs of autotune's ``fit``, one seed after another, with the plain and with the fused step;
- batched: autotune's seed-batched mode (``autotune.training.seed_batch.fit_seeds``, ``torch.func.vmap`` over the K
  seeds' stacked weights), with the plain and with the fused step: what ``--batch-seeds`` trains;
- stacked: a hand-written stacked MLP (``baddbmm`` per layer, batch norm per seed through one ``BatchNorm1d`` over
  K x units, one fused AdamW), the probe that came first: how far a kernel written for the MLP alone gets.

The arms are interleaved, their order alternating, and the paired ratios against sequential plain (and batched fused
against sequential fused) are printed per K.

    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_seed_batch.py [--seeds 3,5] [--repeats 5] \
        [--samples 10000] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from bench_trainer import spread  # noqa: E402
from torch import nn  # noqa: E402

from autotune.data.datasets import Split, Splits, load_splits  # noqa: E402
from autotune.hardware.devices import cpu_model, set_threads  # noqa: E402
from autotune.training.loop import augment_batch, fit  # noqa: E402
from autotune.training.seed_batch import fit_seeds  # noqa: E402

TRIAL_16 = Path(__file__).resolve().parent / "data" / "mlp-mnist-trial16.json"


class StackedMLP(nn.Module):
    """K MLPs of one shape as one module: layer l's weights are a (K, in, out) tensor, batch norm runs per seed."""

    def __init__(self, k: int, sizes: list[int], *, batch_norm: bool, dropout: float, slope: float = 0.01) -> None:
        super().__init__()
        self.k, self.dropout, self.slope = k, dropout, slope
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.norms = nn.ModuleList()
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            weight = torch.empty(k, n_in, n_out)
            for seed in range(k):  # each seed its own initialisation, as its own run would draw it
                nn.init.kaiming_uniform_(weight[seed].T, a=math.sqrt(5))
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(torch.zeros(k, 1, n_out)))
            hidden = i < len(sizes) - 2
            self.norms.append(nn.BatchNorm1d(k * n_out) if batch_norm and hidden else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (K, B, inputs)
        last = len(self.weights) - 1
        for i, (weight, bias, norm) in enumerate(zip(self.weights, self.biases, self.norms, strict=True)):
            x = torch.baddbmm(bias, x, weight)
            if i < last:
                k, b, units = x.shape
                x = norm(x.transpose(0, 1).reshape(b, k * units)).reshape(b, k, units).transpose(0, 1)
                x = F.leaky_relu(x, self.slope)
                if self.dropout > 0:
                    x = F.dropout(x, self.dropout, training=self.training)
        return x


def sequential_rate(config: dict, splits: Splits, k: int, step: str) -> float:
    """Samples/s of K runs of autotune's ``fit`` (one epoch, no validation), one seed after another."""
    start = time.perf_counter()
    for seed in range(k):
        fit(config, splits, family="mlp", max_epochs=1, seed=seed, step=step, evaluate_val=False)
    return k * len(splits.train) / (time.perf_counter() - start)


def seed_batched_rate(config: dict, splits: Splits, k: int, step: str) -> float:
    """Samples/s of autotune's seed-batched mode: the K seeds in one ``fit_seeds`` (one epoch, no validation)."""
    start = time.perf_counter()
    fit_seeds(config, splits, family="mlp", max_epochs=1, seeds=list(range(k)), step=step, evaluate_val=False)
    return k * len(splits.train) / (time.perf_counter() - start)


def stacked_rate(config: dict, data: Split, k: int) -> float:
    """Samples/s (K x the images) of one stacked model training the K seeds at once, each on its own order."""
    torch.manual_seed(0)
    model = StackedMLP(
        k, [784, *config["units"], 10], batch_norm=bool(config["batch_norm"]), dropout=float(config["dropout"])
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"], fused=True)
    generators = [torch.Generator().manual_seed(seed) for seed in range(k)]
    orders = [torch.randperm(len(data), generator=g) for g in generators]
    batch, n = config["batch_size"], len(data)
    model.train()
    start = time.perf_counter()
    for first in range(0, n, batch):
        idx = torch.stack([order[first : first + batch] for order in orders])  # (K, B): each seed's own batch
        xb, yb = data.x[idx.reshape(-1)], data.y[idx.reshape(-1)]
        if config.get("augment"):
            xb = augment_batch(xb, generators[0], "fused")  # one call for the K x B images
        out = model(xb.reshape(k, -1, 784))
        loss = F.cross_entropy(out.reshape(-1, 10), yb, reduction="sum") / idx.shape[1]  # each seed's mean, summed
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return k * n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="3,5", help="comma-separated seed counts K [default: 3,5]")
    parser.add_argument("--repeats", type=int, default=None, help="paired repeats per K [default: 5; 1 with --quick]")
    parser.add_argument("--samples", type=int, default=None, help="images per run [default: 10000; 512 with --quick]")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    set_threads(None)  # autotune's default: one thread
    config = json.loads(TRIAL_16.read_text())
    splits = load_splits("mnist", validation_size=10000, seed=0)
    n = args.samples or (512 if args.quick else 10000)
    data = Split(splits.train.x[:n].contiguous(), splits.train.y[:n].contiguous())
    repeats = args.repeats or (1 if args.quick else 5)
    subset = replace(splits, train=data)
    arms = {
        "sequential plain": lambda k: sequential_rate(config, subset, k, "plain"),
        "sequential fused": lambda k: sequential_rate(config, subset, k, "fused"),
        "batched plain": lambda k: seed_batched_rate(config, subset, k, "plain"),
        "batched fused": lambda k: seed_batched_rate(config, subset, k, "fused"),
        "stacked": lambda k: stacked_rate(config, data, k),
    }
    names = list(arms)
    rows = []
    for k in (int(v) for v in args.seeds.split(",")):
        rates: dict[str, list[float]] = {arm: [] for arm in names}
        for rep in range(repeats):
            for arm in names if rep % 2 == 0 else names[::-1]:
                rates[arm].append(arms[arm](k))

        def paired(arm: str, base: str, rates: dict = rates) -> dict:
            return spread([a / b for a, b in zip(rates[arm], rates[base], strict=True)])

        rows.append(
            {
                "seeds": k,
                **{f"{arm}_per_s".replace(" ", "_"): round(statistics.median(v), 1) for arm, v in rates.items()},
                "batched_plain_vs_sequential_plain": paired("batched plain", "sequential plain"),
                "batched_fused_vs_sequential_fused": paired("batched fused", "sequential fused"),
                "batched_fused_vs_sequential_plain": paired("batched fused", "sequential plain"),
                "stacked_vs_sequential_plain": paired("stacked", "sequential plain"),
            }
        )
    results = {"cpu": cpu_model(), "threads": torch.get_num_threads(), "samples": n, "repeats": repeats, "rows": rows}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['cpu']}: threads={results['threads']}, {n} images per run, {repeats} paired repeats")
    print(
        "| K | sequential plain (samples/s) | sequential fused | batched plain | batched fused | stacked | "
        "batched ÷ sequential, plain | fused | batched fused ÷ sequential plain | stacked ÷ sequential plain |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cells = [
            r[key]
            for key in (
                "batched_plain_vs_sequential_plain",
                "batched_fused_vs_sequential_fused",
                "batched_fused_vs_sequential_plain",
                "stacked_vs_sequential_plain",
            )
        ]
        print(
            f"| {r['seeds']} | {r['sequential_plain_per_s']:,} | {r['sequential_fused_per_s']:,} | "
            f"{r['batched_plain_per_s']:,} | {r['batched_fused_per_s']:,} | {r['stacked_per_s']:,} | "
            + " | ".join(f"{c['median']}× ({c['min']}–{c['max']})" for c in cells)
            + " |"
        )


if __name__ == "__main__":
    main()
