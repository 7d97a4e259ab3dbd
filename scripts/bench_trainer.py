"""Benchmark: autotune's trainer vs the loop most tutorials use, and vs the matmul roofline.

Same model, batch size and number of samples in both arms, measured in one run:
- ours: data in memory as tensors, batches by randperm slicing, losses summed on the device;
- tutorial: a DataLoader over torchvision's MNIST with ToTensor/Normalize, built for the trial,
  and `loss.item()` after every batch.
Also: samples/s as a fraction of the machine's `torch.mm` speed at the model's shapes (a
roofline: forward + backward ~ 3 forward matmuls), and the per-trial fixed overhead (study
load, model build, first batch) in ms.

With --precision it measures instead fp32 against bf16 (autocast) per whole training step
(`train_one_epoch`: forward, loss, backward, optimiser step) for the MLPs 784-256-128-10 and
784-1024-1024-10 at batch 64 and 256 and the seed CNN at batch 100 (and bf16 with channels-last
for the CNN): the arms interleaved, their order alternating, REPEATS paired ratios per row, the
median and the range printed — the measurement behind precision 'auto' (BENCHMARKS.md) — and each
precision's samples/s as a fraction of its own roofline (torch.mm in fp32, or in bf16, at the
model's shapes).

    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_trainer.py [--quick] [--json]
    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_trainer.py --precision \
        [--repeats 7] [--quick] [--json]
    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_trainer.py --epoch [--repeats 3] [--quick] [--json]
    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_trainer.py --peak TRIAL16.json [--threads N]

With --peak it times whole training steps (augmentation and optimiser included) of trial 16's configuration (a JSON
file of the trial's config) and of the seed CNN, in fp32 and, on a CPU with bf16 units, bf16, each with the plain and
the fused training step (autotune.hardware.steps), and reports their model GFLOP/s as a fraction of the machine's
large-matmul peak (2048^3 torch.mm in the same precision, measured before every arm's run, the best taken) and the
fused step's paired ratio over the plain one, at autotune's default thread count unless --threads.

With --epoch it times whole epochs of the seed CNN at batch 100 over the 50k training split (1,000
images with --quick) in fp32, bf16 and bf16 with channels-last, arms interleaved as above: the
issue's "a full epoch on 50k images in <= 15 s on 2 cores", measured rather than extrapolated.

On a CPU without bf16 units (neither AVX-512 BF16 nor AMX) --precision and --epoch time fp32 only:
torch would emulate bf16 there (an epoch of the seed CNN took 13x as long as in fp32 on an AVX2-only
CPU), and autotune never trains in it there (`auto` falls back to fp32, `bf16` is refused).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from autotune.base.paths import cache_dir  # noqa: E402
from autotune.data.datasets import Split, load_splits  # noqa: E402
from autotune.hardware.precision import NO_BF16_UNITS  # noqa: E402
from autotune.hardware.steps import STEPS  # noqa: E402
from autotune.training.loop import make_optimizer, train_one_epoch  # noqa: E402
from autotune.training.models import build_model  # noqa: E402

BASE = dict(
    lr=0.01,
    n_layers=2,
    activation="relu",
    init="default",
    optimizer="sgd_momentum",
    weight_decay=0.0,
    dropout=0.0,
    batch_norm=False,
    lr_schedule="none",
    augment=False,
)
MODELS = {
    "mlp": dict(BASE, units=[256, 128]),  # the seed reports' [784,256,128,10]
    "cnn": dict(BASE, channels=[32, 64], kernel_size=5, fc_units=1024),  # seed report 004's CNN
}


def ours(family: str, config: dict, data: Split) -> float:
    """autotune's trainer: one epoch of whole fp32 training steps (see :func:`step_rate`)."""
    return step_rate(family, config, data, "fp32")


def tutorial(family: str, config: dict, n: int) -> float:
    """The usual tutorial loop, including building its DataLoader (done once per trial there)."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    torch.manual_seed(0)
    model = build_model(family, input_shape=(1, 28, 28), n_outputs=10, config=config)
    optimizer = make_optimizer(model, config)
    start = time.perf_counter()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    dataset = datasets.MNIST(root=str(cache_dir() / "data"), train=True, download=False, transform=transform)
    loader = DataLoader(Subset(dataset, range(n)), batch_size=config["batch_size"], shuffle=True)
    model.train()
    running = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()  # the per-batch host sync tutorials do
    return n / (time.perf_counter() - start)


def _mm_seconds(m: int, k: int, n: int, repeats: int = 5, dtype: torch.dtype = torch.float32) -> float:
    a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return (time.perf_counter() - start) / repeats


def roofline(family: str, config: dict, dtype: torch.dtype = torch.float32) -> float:
    """Samples/s if training ran at torch.mm speed in ``dtype``: 3 matmuls (forward + 2 backward) per layer."""
    b = config["batch_size"]
    if family == "mlp":
        sizes = [784, *config["units"], 10]
        shapes = [(b, sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]
    else:
        k, c_in, hw, shapes = config["kernel_size"], 1, 28, []
        for c_out in config["channels"]:
            shapes.append((b * hw * hw, c_in * k * k, c_out))  # convolution as im2col matmul
            c_in, hw = c_out, hw // 2
        shapes += [(b, c_in * hw * hw, config["fc_units"]), (b, config["fc_units"], 10)]
    seconds = sum(_mm_seconds(*s, dtype=dtype) for s in shapes) * 3
    return b / seconds


def overhead_ms(data: Split) -> dict:
    """Per-trial fixed costs: load a stored study, build the model, run the first batch."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    from autotune.storage.studies import open_storage

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'o.db'}"
        optuna.create_study(storage=open_storage(url), study_name="o")
        start = time.perf_counter()
        optuna.load_study(study_name="o", storage=open_storage(url))
        load = time.perf_counter() - start
    config = dict(MODELS["mlp"], batch_size=128)
    start = time.perf_counter()
    model = build_model("mlp", input_shape=(1, 28, 28), n_outputs=10, config=config)
    optimizer = make_optimizer(model, config)
    build = time.perf_counter() - start
    start = time.perf_counter()
    loss = F.cross_entropy(model(data.x[:128]), data.y[:128])
    loss.backward()
    optimizer.step()
    first = time.perf_counter() - start
    return {
        "study_load_ms": round(load * 1000, 1),
        "model_build_ms": round(build * 1000, 1),
        "first_batch_ms": round(first * 1000, 1),
    }


#: (label, family, config, batch sizes) of the precision comparison
PRECISION_ROWS = [
    ("mlp 256-128", "mlp", dict(BASE, units=[256, 128]), (64, 256)),
    ("mlp 1024-1024", "mlp", dict(BASE, units=[1024, 1024]), (64, 256)),
    ("cnn 32-64-fc1024", "cnn", MODELS["cnn"], (100,)),
]


def step_rate(family: str, config: dict, data: Split, arm: str, step: str = "plain") -> float:
    """Samples/s of one epoch of whole training steps over ``data`` in ``arm``: fp32, bf16 or bf16+cl
    (bf16 with the model in channels-last memory format), with the training ``step`` (plain or fused)."""
    torch.manual_seed(0)
    model = build_model(family, input_shape=(1, 28, 28), n_outputs=10, config=config)
    if arm == "bf16+cl":
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, config, step)
    start = time.perf_counter()
    train_one_epoch(
        model,
        optimizer,
        data,
        batch_size=config["batch_size"],
        generator=torch.Generator().manual_seed(0),
        classification=True,
        augment=bool(config.get("augment", False)),
        precision="fp32" if arm == "fp32" else "bf16",
        step=step,
    )
    return len(data) / (time.perf_counter() - start)


def precision_rows(splits, *, repeats: int, quick: bool, bf16: bool = True) -> list[dict]:
    """fp32 vs bf16 (and bf16+cl for the CNN), interleaved: in repeat i the arms run in turn, in
    reversed order when i is odd; each row reports the median samples/s per arm and the median and
    range of the paired per-repeat ratios. With ``bf16=False`` (no bf16 units) only fp32 is timed."""
    import statistics

    rows = []
    for label, family, model_config, batch_sizes in PRECISION_ROWS:
        n = (512 if quick else 2000) if family == "cnn" else (2048 if quick else 20480)
        data = Split(splits.train.x[:n].contiguous(), splits.train.y[:n].contiguous())
        arms = ["fp32", "bf16", "bf16+cl"] if family == "cnn" else ["fp32", "bf16"]
        arms = arms if bf16 else ["fp32"]
        for batch_size in batch_sizes:
            config = dict(model_config, batch_size=batch_size)
            warm = Split(data.x[: 4 * batch_size], data.y[: 4 * batch_size])
            for arm in arms:  # one-off costs (kernel selection, first allocations) outside the timed runs
                step_rate(family, config, warm, arm)
            rates: dict[str, list[float]] = {arm: [] for arm in arms}
            for i in range(repeats):
                for arm in arms if i % 2 == 0 else arms[::-1]:
                    rates[arm].append(step_rate(family, config, data, arm))
            row = {"model": label, "batch_size": batch_size, "samples": n, "repeats": repeats}
            for arm in arms:
                row[f"{arm}_per_s"] = round(statistics.median(rates[arm]), 1)
            for dtype, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
                if name in arms:  # each precision against its own torch.mm speed, at this model's shapes
                    row[f"{name}_roofline_per_s"] = round(roofline(family, config, dtype), 1)
                    row[f"{name}_of_roofline"] = round(row[f"{name}_per_s"] / row[f"{name}_roofline_per_s"], 3)

            def ratios(num: str, den: str) -> list[float]:
                return [a / b for a, b in zip(rates[num], rates[den])]

            pairs = ([("bf16", "fp32")] if "bf16" in arms else []) + (
                [("bf16+cl", "bf16"), ("bf16+cl", "fp32")] if "bf16+cl" in arms else []
            )
            for num, den in pairs:
                r = ratios(num, den)
                row[f"{num}_vs_{den}"] = {
                    "median": round(statistics.median(r), 3),
                    "min": round(min(r), 3),
                    "max": round(max(r), 3),
                }
            rows.append(row)
    return rows


def epoch_seconds(splits, *, repeats: int, quick: bool, bf16: bool = True) -> dict:
    """Seconds per epoch of the seed CNN at batch 100 over the training split, per arm: median and range.
    With ``bf16=False`` (no bf16 units) only fp32 is timed."""
    import statistics

    n = 1000 if quick else len(splits.train)
    data = Split(splits.train.x[:n].contiguous(), splits.train.y[:n].contiguous())
    config = dict(MODELS["cnn"], batch_size=100)
    arms = ["fp32", "bf16", "bf16+cl"] if bf16 else ["fp32"]
    for arm in arms:  # one-off costs outside the timed runs
        step_rate("cnn", config, Split(data.x[:400], data.y[:400]), arm)
    seconds: dict[str, list[float]] = {arm: [] for arm in arms}
    for i in range(repeats):
        for arm in arms if i % 2 == 0 else arms[::-1]:
            seconds[arm].append(n / step_rate("cnn", config, data, arm))
    return {
        "model": "cnn 32-64-fc1024",
        "batch_size": 100,
        "images": n,
        "repeats": repeats,
        **{
            arm: {"median": round(statistics.median(v), 2), "min": round(min(v), 2), "max": round(max(v), 2)}
            for arm, v in seconds.items()
        },
    }


NO_BF16 = f"{NO_BF16_UNITS}: bf16 not timed; autotune trains fp32 here ('auto' falls back to it, 'bf16' is refused)"


def print_precision(results: dict) -> None:
    """The --epoch or --precision results as text."""
    print(
        f"{results['cpu']}: threads={results['threads']} cpus={results['cpus']} load average "
        f"{results['load_average_before']} -> {results['load_average_after']}"
    )
    if not results["bf16_hardware"]:
        print(NO_BF16)
    if "rows" not in results:
        print(f"seed CNN, batch 100, one epoch over {results['images']} images, {results['repeats']} repeats:")
        for arm in ("fp32", "bf16", "bf16+cl"):
            if arm in results:
                r = results[arm]
                print(f"  {arm:<8} {r['median']:>7} s  ({r['min']}-{r['max']})")
        return
    header = f"{'model':<18}{'batch':>6}{'fp32/s':>10}{'of roof':>8}"
    if results["bf16_hardware"]:
        header += (
            f"{'bf16/s':>10}{'of roof':>8}{'bf16/fp32 (median, range)':>30}{'bf16+cl/s':>11}"
            f"{'cl/bf16 (median, range)':>28}"
        )
    print(header)
    for r in results["rows"]:
        line = f"{r['model']:<18}{r['batch_size']:>6}{r['fp32_per_s']:>10}{r['fp32_of_roofline']:>8}"
        if "bf16_per_s" in r:
            ratio = r["bf16_vs_fp32"]
            line += (
                f"{r['bf16_per_s']:>10}{r['bf16_of_roofline']:>8}{ratio['median']:>14}x ({ratio['min']}-{ratio['max']})"
            )
        if "bf16+cl_per_s" in r:
            cl = r["bf16+cl_vs_bf16"]
            line += f"{r['bf16+cl_per_s']:>11}{cl['median']:>12}x ({cl['min']}-{cl['max']})"
        print(line)


#: The --peak rows are trial 16 of the main job (`autotune run --study mlp-mnist --trials 100`, a search that repeats
#: trial for trial at 2 threads; its configuration: scripts/data/mlp-mnist-trial16.json) and the seed CNN (report 004)
#: at its batch size
SEED_CNN = ("seed cnn 32-64-fc1024", "cnn", dict(MODELS["cnn"], batch_size=100))


def model_flops(family: str, config: dict) -> float:
    """Floating-point operations of one training sample through the model's matmuls: forward and the two backward
    products (3 x 2 x multiply-adds); convolutions as im2col matmuls, as :func:`roofline` counts them."""
    if family == "mlp":
        sizes = [784, *config["units"], 10]
        macs = sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
    else:
        k, c_in, hw, macs = config["kernel_size"], 1, 28, 0
        for c_out in config["channels"]:
            macs += hw * hw * c_in * k * k * c_out
            c_in, hw = c_out, hw // 2
        macs += c_in * hw * hw * config["fc_units"] + config["fc_units"] * 10
    return 3 * 2 * macs


def large_mm_gflops(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """The machine's large-matmul rate at this process's thread count: the best of ``repeats`` size^3 products."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rows(splits, trial_16: dict, *, repeats: int, quick: bool, bf16: bool) -> dict:
    """Samples/s of whole training steps (augmentation, optimiser and all) for trial 16's configuration and the seed
    CNN, per precision and training step (plain, fused), against the large-matmul peak measured in the same run
    (interleaved with the steps); the fused step's paired ratio over the plain one, per precision."""
    import statistics

    rows, peaks = [], {"fp32": [], "bf16": []}
    arms = [(precision, step) for precision in (["fp32", "bf16"] if bf16 else ["fp32"]) for step in STEPS]
    for label, family, config in [("mlp-mnist trial 16", "mlp", trial_16), SEED_CNN]:
        n = (1000 if family == "mlp" else 200) if quick else (10000 if family == "mlp" else 2000)
        data = Split(splits.train.x[:n].contiguous(), splits.train.y[:n].contiguous())
        rates: dict[tuple[str, str], list[float]] = {arm: [] for arm in arms}
        for rep in range(repeats):
            for precision, step in arms if rep % 2 == 0 else arms[::-1]:
                peaks[precision].append(large_mm_gflops(torch.float32 if precision == "fp32" else torch.bfloat16))
                rates[precision, step].append(step_rate(family, config, data, precision, step))
        for precision, step in arms:
            per_s = statistics.median(rates[precision, step])
            flops = model_flops(family, config) * per_s / 1e9
            paired = [f / p for f, p in zip(rates[precision, "fused"], rates[precision, "plain"], strict=True)]
            rows.append(
                {
                    "model": label,
                    "batch_size": config["batch_size"],
                    "precision": precision,
                    "step": step,
                    "samples_per_s": round(per_s, 1),
                    "model_gflops": round(flops, 2),
                    **({"fused_vs_plain": spread(paired)} if step == "fused" else {}),
                }
            )
    peak = {arm: round(max(v), 1) for arm, v in peaks.items() if v}
    for row in rows:
        row["large_mm_peak_gflops"] = peak[row["precision"]]
        row["fraction_of_peak"] = round(row["model_gflops"] / peak[row["precision"]], 3)
    return {"rows": rows, "peak_gflops": peak}


def spread(ratios: list[float]) -> dict:
    """The median, min and max of paired ratios, to 3 decimals (bench_seed_batch.py prints its ratios so too)."""
    import statistics

    return {"median": round(statistics.median(ratios), 3), "min": round(min(ratios), 3), "max": round(max(ratios), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sample counts: a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--precision",
        action="store_true",
        help="fp32 vs bf16 per whole training step instead of ours vs the tutorial loop",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        metavar="R",
        help="paired repeats per row with --precision [default: 7; 2 with --quick], per arm "
        "with --epoch [default: 3; 1 with --quick]",
    )
    parser.add_argument(
        "--peak",
        metavar="CONFIG_JSON",
        default=None,
        help="samples/s of trial 16's configuration (this JSON file: the trial's config as `autotune export` or "
        "the study stores it) and of the seed CNN, per precision, as a fraction of the large-matmul peak",
    )
    parser.add_argument(
        "--threads", type=int, default=None, metavar="N", help="with --peak: torch threads [default: autotune's, 1]"
    )
    parser.add_argument(
        "--epoch",
        action="store_true",
        help="seconds per 50k-image epoch of the seed CNN in fp32, bf16 and bf16 + channels-last",
    )
    args = parser.parse_args()
    from autotune.hardware.devices import cpu_model

    splits = load_splits("mnist", validation_size=10000, seed=0)
    if args.peak:
        from autotune.hardware.devices import set_threads
        from autotune.hardware.precision import has_bf16

        set_threads(args.threads)  # autotune's default (one) unless --threads says otherwise
        results = {
            "threads": torch.get_num_threads(),
            "cpu": cpu_model(),
            "torch": torch.__version__,
            "load_average_before": round(os.getloadavg()[0], 2),
        }
        results.update(
            peak_rows(
                splits,
                json.loads(Path(args.peak).read_text()),
                repeats=args.repeats or (1 if args.quick else 3),
                quick=args.quick,
                bf16=has_bf16("cpu"),
            )
        )
        results["load_average_after"] = round(os.getloadavg()[0], 2)
        if args.json:
            print(json.dumps(results, indent=2))
            return
        print(f"{results['cpu']}: threads={results['threads']}, large-matmul peak (GFLOP/s): {results['peak_gflops']}")
        print(
            "| model | batch | precision | step | samples/s | model GFLOP/s | fraction of the large-matmul peak "
            "| fused ÷ plain (median, range) |"
        )
        print("|---|---:|---|---|---:|---:|---:|---:|")
        for r in results["rows"]:
            ratio = r.get("fused_vs_plain")
            print(
                f"| {r['model']} | {r['batch_size']} | {r['precision']} | {r['step']} | {r['samples_per_s']:,} | "
                f"{r['model_gflops']} | {r['fraction_of_peak']:.1%} | "
                + (f"{ratio['median']}× ({ratio['min']}–{ratio['max']}) |" if ratio else "|")
            )
        return
    if args.epoch or args.precision:
        from autotune.hardware.precision import has_bf16

        bf16 = has_bf16("cpu")
        results = {
            "threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "bf16_hardware": bf16,
            "torch": torch.__version__,
            "load_average_before": round(os.getloadavg()[0], 2),
        }
        if args.epoch:
            results.update(
                epoch_seconds(splits, repeats=args.repeats or (1 if args.quick else 3), quick=args.quick, bf16=bf16)
            )
        else:
            results["rows"] = precision_rows(
                splits, repeats=args.repeats or (2 if args.quick else 7), quick=args.quick, bf16=bf16
            )
        results["load_average_after"] = round(os.getloadavg()[0], 2)
        if args.json:
            print(json.dumps(results, indent=2))
        else:
            print_precision(results)
        return
    samples = {"mlp": 2000 if args.quick else 20000, "cnn": 256 if args.quick else 2048}
    results = {"threads": torch.get_num_threads(), "cpus": os.cpu_count(), "cpu": cpu_model(), "rows": []}
    for family, batch_sizes in (("mlp", (32, 128)), ("cnn", (32, 128))):
        n = samples[family]
        data = Split(splits.train.x[:n].contiguous(), splits.train.y[:n].contiguous())
        for batch_size in batch_sizes:
            config = dict(MODELS[family], batch_size=batch_size)
            row = {
                "model": family,
                "batch_size": batch_size,
                "samples": n,
                "ours_per_s": round(ours(family, config, data), 1),
                "tutorial_per_s": round(tutorial(family, config, n), 1),
                "roofline_per_s": round(roofline(family, config), 1),
            }
            row["speedup_vs_tutorial"] = round(row["ours_per_s"] / row["tutorial_per_s"], 2)
            row["fraction_of_roofline"] = round(row["ours_per_s"] / row["roofline_per_s"], 3)
            results["rows"].append(row)
    results["overhead"] = overhead_ms(splits.train)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['cpu']}: threads={results['threads']} cpus={results['cpus']}")
    print(
        f"{'model':<6}{'batch':>6}{'samples':>9}{'ours/s':>11}{'tutorial/s':>12}{'speedup':>9}"
        f"{'roofline/s':>12}{'of roof':>9}"
    )
    for r in results["rows"]:
        print(
            f"{r['model']:<6}{r['batch_size']:>6}{r['samples']:>9}{r['ours_per_s']:>11}{r['tutorial_per_s']:>12}"
            f"{r['speedup_vs_tutorial']:>8}x{r['roofline_per_s']:>12}{r['fraction_of_roofline']:>9}"
        )
    print("per-trial overhead:", results["overhead"])


if __name__ == "__main__":
    main()
