"""Benchmark: how much search each arm buys per epoch trained, against a student's hand grid.

On mlp-mnist (its search space, a reduced budget: a training subset and few epochs, the same for
every arm), over several repetitions with different seeds:
- "hand grid": the configurations seed report 000 tried by hand (../shared/seeds/hand-grid-000.csv,
  every row, in the report's order; plain SGD, as in the report), each trained for the budget;
- "random": Optuna's RandomSampler, no pruning;
- "tpe+median": TPE with median pruning (the shipped MLP specs' default until this benchmark
  showed successive halving doing better; still the default of a spec without a 'pruner');
- "tpe+sha": TPE with successive halving (min_resource 1, reduction_factor 3): the shipped MLP
  specs' default; "tpe+hyperband": Optuna's Hyperband pruner (Optuna's docs report these two
  often beat the median pruner);
- "tpe": TPE without pruning.
Every arm gets the compute the hand grid used (its rows x epochs, counted in epochs trained).
Printed: best validation accuracy at that budget (mean ± std over repetitions), and the epochs
each arm needed to first reach the hand grid's best accuracy, as a ratio to random search and
as a fraction of the hand grid's compute. Writes a plot of best accuracy vs epochs trained.

Opt-in arms: "tpe+sha+warm" is TPE with successive halving warm-started from the hand grid the way a
user does it, `autotune import --table hand-grid-000.csv --rerun` (autotune.hand_tables.into_study: every row the
space can hold is enqueued, to be trained under the study's budget and pruner; the rows outside the
space are not); any search arm with "+stop" (e.g. "tpe+sha+stop") also ends at the noise floor
(autotune.analysis.stopping, `--stop-patience`, 3 seeds); the epochs that measure the spread count as
spent, and the summary says in how many repetitions it stopped and how much of the budget it
used. `--test-accuracy` trains each arm's best configuration once more (the trial's budget,
the repetition's seed) and tests it on the held-out test split: the final accuracy with and
without the stop. `--budget E` gives the search arms E epochs instead of the hand grid's compute
(the hand grid still trains its rows once; "best at the hand grid's compute" is then reported too).

    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_search.py [--quick] [--json] [--out DIR]
    ... --arms tpe+sha,tpe+sha+stop --budget 336 --reps 5 --test-accuracy   # the noise-floor stop vs the full budget
    ... --arms random,tpe+sha,tpe+sha+warm --reps 5                          # warm-started from the hand grid
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import optuna  # noqa: E402

from autotune.analysis.stopping import NoiseFloor  # noqa: E402
from autotune.base.seeding import derive_seed  # noqa: E402
from autotune.data.datasets import load_splits, load_test  # noqa: E402
from autotune.execution.objective import Objective  # noqa: E402
from autotune.search.configs import (
    config_from_mapping,  # noqa: E402
    config_from_params,  # noqa: E402
)
from autotune.spec.study import PrunerSpec, SamplerSpec, StopSpec, load_spec  # noqa: E402
from autotune.training.loop import evaluate, fit  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HAND_GRID = REPO.parent / "shared" / "seeds" / "hand-grid-000.csv"
SEARCH_ARMS = ("random", "tpe+median", "tpe+hyperband", "tpe+sha", "tpe")
#: Opt-in suffixes of a search arm: "+warm" (only with tpe+sha; that is the shipped default it warm-starts)
#: and "+stop" (any search arm), in that order.
WARM_ARMS = ("tpe+sha+warm",)
DEFAULT_MARK = {"tpe+sha": " (shipped MLP specs)"}


def hand_grid_configs(spec, path: Path = HAND_GRID) -> list[tuple[str, dict]]:
    """The seed report's rows as autotune configurations (row label, configuration)."""
    init_names = {"kaiming (He)": "kaiming_normal"}
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            widths = json.loads(row["layers"])[1:-1]
            config = config_from_mapping(
                spec,
                {
                    "lr": float(row["learning_rate"]),
                    "batch_size": int(row["batch_size"]),
                    "n_layers": len(widths),
                    "units": widths,
                    "init": init_names.get(row["init"], row["init"]),
                    "optimizer": "sgd",
                    "activation": "relu",
                    "weight_decay": 0.0,
                    "dropout": 0.0,
                    "batch_norm": False,
                    "lr_schedule": "step" if row["lr_schedule_as_written"] else "none",
                    "augment": False,
                },
                source=f"{path.name} row {row['row']}",
            )
            out.append((row["row"], config))
    return out


def run_hand_grid(spec, splits, configs, *, epochs: int, seed: int) -> list[tuple[int, float]]:
    """(cumulative epochs, validation accuracy) per configuration, in the table's order."""
    points, used = [], 0
    for i, (_, config) in enumerate(configs):
        result = fit(config, splits, family="mlp", max_epochs=epochs, seed=derive_seed(seed, i))
        used += len(result.history)
        points.append((used, result.last.val_accuracy or 0.0))
    return points


def run_search(
    arm: str, spec, splits, *, budget: int, seed: int, patience: int = StopSpec.patience, out: dict | None = None
) -> list[tuple[int, float]]:
    """(cumulative epochs, validation accuracy) per finished trial until the budget is spent, or, for an
    arm ending in "+stop", until the noise-floor rule fires (its spread runs' epochs count as spent).
    ``out`` receives where the arm ended and its best trial's parameters."""
    from autotune.search.samplers import make_pruner, make_sampler

    sampler_name, _, pruner_name = arm.removesuffix("+stop").removesuffix("+warm").partition("+")
    pruner = {"median": "median", "hyperband": "hyperband", "sha": "successive_halving"}.get(pruner_name, "none")
    arm_spec = replace(
        spec, seed=seed, sampler=SamplerSpec(name=sampler_name, n_startup_trials=10), pruner=PrunerSpec(name=pruner)
    )  # min_resource 1, reduction_factor 3
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler(arm_spec, n_existing=0),
        pruner=make_pruner(arm_spec.pruner, max_epochs=spec.max_epochs),
    )
    warm = 0
    if "+warm" in arm:  # `autotune import --table hand-grid-000.csv --rerun`, on this in-memory study
        from autotune.hand_tables import into_study as imports

        warm = imports.write(imports.plan(arm_spec, str(HAND_GRID), rerun=True), study)["queued"]
    objective = Objective(arm_spec, splits)
    stop = (
        NoiseFloor(arm_spec, StopSpec(patience=patience), storage=None, load_splits=lambda: splits)
        if arm.endswith("+stop")
        else None
    )
    points, trained, stopped = [], 0, False

    def spent() -> int:
        return trained + (stop.trained_epochs if stop else 0)

    while spent() < budget:
        if stop is not None and stop(study, sys.maxsize):  # judged before each trial, as `run` does
            stopped = True
            break
        if spent() >= budget:  # measuring the spread took the rest of the budget
            break
        study.optimize(objective, n_trials=1)
        trial = study.trials[-1]
        trained += int(trial.user_attrs.get("epochs", 0))
        points.append((spent(), trial.user_attrs.get("val_accuracy") or 0.0))
    if out is not None:
        spread = stop.trained_epochs if stop else 0
        out.update(
            stopped=stopped,
            epochs=trained + spread,
            spread_epochs=spread,
            trials=len(points),
            best_params=study.best_trial.params,
            warm_rows=warm,
            hand_rows_run=sum("hand_row" in t.user_attrs for t in study.trials),
        )
    return points


def test_accuracy(spec, splits, params: dict, *, seed: int) -> float:
    """The test accuracy of ``params`` trained once more for the trial's budget (seed ``seed``)."""
    result = fit(config_from_params(spec, params), splits, family=spec.model, max_epochs=spec.max_epochs, seed=seed)
    return evaluate(result.model, load_test(splits), classification=True)[1]


def best_within(points: list[tuple[int, float]], budget: int) -> float:
    return max((acc for used, acc in points if used <= budget), default=0.0)


def epochs_to_reach(points: list[tuple[int, float]], target: float) -> int | None:
    return next((used for used, acc in points if acc >= target), None)


def curve(points: list[tuple[int, float]], budget: int) -> list[float]:
    """Best accuracy so far after 1..budget epochs (a step function)."""
    out, best, i = [], 0.0, 0
    for e in range(1, budget + 1):
        while i < len(points) and points[i][0] <= e:
            best = max(best, points[i][1])
            i += 1
        out.append(best)
    return out


def summarize(
    runs: dict[str, list[list[tuple[int, float]]]], targets: list[float], budget: int, hand_compute: int | None = None
) -> list[dict]:
    """One row per arm. ``budget``: the search arms' epochs; ``hand_compute``: the hand grid's (default: the
    budget), the denominator of "fraction of hand compute" and, when smaller, a second best-so-far column."""
    hand_compute = hand_compute or budget
    rows = []
    for arm, reps in runs.items():
        best = [best_within(p, budget) for p in reps]
        reach = [epochs_to_reach(p, t) for p, t in zip(reps, targets)]
        row = {
            "arm": arm,
            "best_mean": statistics.fmean(best),
            "best_std": statistics.stdev(best) if len(best) > 1 else 0.0,
            "best": best,
            "epochs_to_target": reach,
            "trials": [len(p) for p in reps],
        }
        if hand_compute < budget:
            at_hand = [best_within(p, hand_compute) for p in reps]
            row.update(best_at_hand_compute=at_hand, best_at_hand_compute_mean=statistics.fmean(at_hand))
        rows.append(row)
    random = next((r for r in rows if r["arm"] == "random"), None)
    for r in rows:
        reached = [e for e in r["epochs_to_target"] if e is not None]
        r["reached"] = f"{len(reached)}/{len(targets)}"
        r["epochs_to_target_mean"] = statistics.fmean(reached) if reached else None
        pairs = [(e, b) for e, b in zip(r["epochs_to_target"], random["epochs_to_target"]) if e and b] if random else []
        r["ratio_to_random"] = round(statistics.fmean(e / b for e, b in pairs), 3) if pairs else None
        r["fraction_of_hand_compute"] = (
            round(r["epochs_to_target_mean"] / hand_compute, 3) if r["epochs_to_target_mean"] is not None else None
        )
    return rows


def plot(runs: dict, budget: int, targets: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    xs = list(range(1, budget + 1))
    for arm, reps in runs.items():
        curves = [curve(p, budget) for p in reps]
        mean = [statistics.fmean(c[i] for c in curves) for i in range(budget)]
        ax.step(
            xs,
            [m * 100 for m in mean],
            where="post",
            label=arm + DEFAULT_MARK.get(arm, ""),
            linewidth=2 if arm in DEFAULT_MARK else 1.2,
        )
    ax.axhline(statistics.fmean(targets) * 100, color="grey", linestyle=":", label="hand grid's best (mean)")
    finite = [a for reps in runs.values() for p in reps for _, a in p if a > 0]
    ax.set_ylim(max(min(finite) * 100, statistics.fmean(targets) * 100 - 8), 100 * max(finite) + 0.5)
    ax.set_xlabel("epochs trained (cumulative)")
    ax.set_ylabel("best validation accuracy so far (%)")
    ax.set_title(f"Search efficiency on mlp-mnist (mean of {len(targets)} repetitions)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A smoke run: 1 repetition, tiny data and budget.")
    parser.add_argument("--reps", type=int, default=None, help="Repetitions (default 3; 1 with --quick).")
    parser.add_argument("--epochs", type=int, default=None, help="Epochs per trial (default 4; 1 with --quick).")
    parser.add_argument("--train-subset", type=int, default=None, help="Training images (default 10000).")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=1000,
        help="Seed of the first repetition; repetition k uses first-seed + k (default 1000).",
    )
    parser.add_argument(
        "--arms",
        default=",".join(SEARCH_ARMS),
        help=f"Comma-separated search arms to run besides the hand grid "
        f"(default: all of {', '.join(SEARCH_ARMS)}; add '+stop' to one to end it at the "
        "noise floor, e.g. tpe+sha+stop; tpe+sha+warm starts from the hand grid's rows).",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="EPOCHS",
        help="Epochs each search arm may train (default: the hand grid's compute, rows x epochs).",
    )
    parser.add_argument(
        "--stop-patience",
        type=int,
        default=StopSpec.patience,
        help=f"The noise-floor rule's patience for the '+stop' arms (default {StopSpec.patience}).",
    )
    parser.add_argument(
        "--test-accuracy",
        action="store_true",
        help="Also train each arm's best configuration once more and test it on the test split.",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="bench-search", help="Folder for the plot and the JSON results.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args()
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in arms if a.removesuffix("+stop") not in SEARCH_ARMS + WARM_ARMS]
    if unknown:
        parser.error(
            f"--arms: unknown {unknown}; choose from {', '.join(SEARCH_ARMS + WARM_ARMS)}, each optionally "
            "with '+stop' ('random' is the baseline of the ratios: without it they are not printed)"
        )
    import torch

    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    reps = args.reps or (1 if args.quick else 3)
    epochs = args.epochs or (1 if args.quick else 4)
    subset = args.train_subset or (2000 if args.quick else 10000)
    base = replace(
        load_spec("mlp-mnist"), max_epochs=epochs, train_subset=subset, validation_size=2000 if args.quick else 10000
    )
    configs = hand_grid_configs(base)
    if args.quick:
        configs = configs[:5]
    hand_compute = len(configs) * epochs
    budget = args.budget or hand_compute
    if budget < 1:
        parser.error(f"--budget must be >= 1 epoch, got {budget}")
    if args.stop_patience < 1:
        parser.error(f"--stop-patience must be >= 1, got {args.stop_patience}")
    runs: dict[str, list] = {"hand grid": [], **{arm: [] for arm in arms}}
    ends: dict[str, list] = {arm: [] for arm in arms}  # where each search arm ended, per repetition
    targets, start = [], time.perf_counter()
    for rep in range(reps):
        seed = args.first_seed + rep
        splits = load_splits("mnist", validation_size=base.validation_size, seed=seed, train_subset=subset)
        spec = replace(base, seed=seed)
        hand = run_hand_grid(spec, splits, configs, epochs=epochs, seed=seed)
        runs["hand grid"].append(hand)
        targets.append(max(acc for _, acc in hand))
        for arm in arms:
            end: dict = {}
            runs[arm].append(
                run_search(arm, spec, splits, budget=budget, seed=seed, patience=args.stop_patience, out=end)
            )
            if args.test_accuracy:
                end["test_accuracy"] = test_accuracy(spec, splits, end["best_params"], seed=seed)
            ends[arm].append(end)
        print(f"repetition {rep + 1}/{reps} done ({time.perf_counter() - start:.0f}s)", file=sys.stderr)
        # each repetition kept as it ends: a run cut short leaves the repetitions it finished (with their seeds),
        # and the rest can be run later with --first-seed and combined
        partial = Path(args.out) / "bench_search.partial.json"
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(
            json.dumps(
                {
                    "first_seed": args.first_seed,
                    "reps_done": rep + 1,
                    "targets": targets,
                    "runs": runs,
                    "ends": ends,
                    "budget_epochs": budget,
                    "stop_patience": args.stop_patience,
                },
                indent=1,
            )
        )
    rows = summarize(runs, targets, budget, hand_compute)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(runs, budget, targets, out / "bench_search.png")
    result = {
        "reps": reps,
        "first_seed": args.first_seed,
        "epochs_per_trial": epochs,
        "train_subset": subset,
        "hand_grid_rows": len(configs),
        "hand_grid_epochs": hand_compute,
        "budget_epochs": budget,
        "targets": targets,
        "seconds": round(time.perf_counter() - start, 1),
        "rows": rows,
        "runs": {k: v for k, v in runs.items()},
        "stop_patience": args.stop_patience,
        "ends": ends,
    }
    (out / "bench_search.json").write_text(json.dumps(result, indent=1))
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(
        f"mlp-mnist, {subset} training images, {epochs} epochs per trial, budget {budget} epochs "
        f"(the hand grid's {len(configs)} rows: {hand_compute}), {reps} repetitions, {result['seconds']} s"
    )
    print(f"target: the hand grid's best validation accuracy, mean {statistics.fmean(targets):.4f}")
    print(
        f"{'arm':<14} {'best at budget':>18} {'trials':>7} {'reached':>8} {'epochs to target':>17} "
        f"{'vs random':>10} {'of hand compute':>16}"
    )
    for r in rows:
        reach = "-" if r["epochs_to_target_mean"] is None else f"{r['epochs_to_target_mean']:.1f}"
        ratio = "-" if r["ratio_to_random"] is None else f"{r['ratio_to_random']:.2f}x"
        frac = "-" if r["fraction_of_hand_compute"] is None else f"{r['fraction_of_hand_compute']:.2f}"
        at_hand = (
            f"  (best at {hand_compute} epochs {r['best_at_hand_compute_mean']:.4f})"
            if "best_at_hand_compute_mean" in r
            else ""
        )
        print(
            f"{r['arm']:<14} {r['best_mean']:.4f} ± {r['best_std']:.4f} {statistics.fmean(r['trials']):>7.1f} "
            f"{r['reached']:>8} {reach:>17} {ratio:>10} {frac:>16}{at_hand}"
        )
    for arm, reps_ends in ends.items():
        used = statistics.fmean(e["epochs"] for e in reps_ends)
        line = f"{arm:<14} epochs used {used:.1f} of {budget}"
        if arm.endswith("+stop"):
            line += (
                f", stopped at the noise floor in {sum(e['stopped'] for e in reps_ends)}/{reps} repetitions "
                f"(patience {args.stop_patience}; spread runs "
                f"{statistics.fmean(e['spread_epochs'] for e in reps_ends):.1f} epochs)"
            )
        if args.test_accuracy:
            tests = [e["test_accuracy"] for e in reps_ends]
            line += f", test accuracy of its best {statistics.fmean(tests):.4f}" + (
                f" ± {statistics.stdev(tests):.4f}" if len(tests) > 1 else ""
            )
        print(line)
    print(f"plot: {out / 'bench_search.png'}")


if __name__ == "__main__":
    main()
