"""Benchmark: the accuracy the shipped studies reach, and its cost, beside the seed reports and references.

For each stored study given (``--study NAME=STORAGE``): trials run, their CPU time, the best
validation accuracy, and the **test** accuracy of the best configuration, retrained on
train+validation with ``--seeds`` seeds and tested once each (mean ± std) — exactly what
``autotune export --seeds K`` does. Printed beside the seed reports' best hand-tuned results and
well-known reference figures. ``--quick`` runs a tiny digits study itself and tabulates it.

    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_accuracy.py \\
        --study mlp-mnist=sqlite:///runs/mnist.db --study cnn-mnist=sqlite:///runs/cnn.db [--seeds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import optuna  # noqa: E402

#: Best hand-tuned validation accuracy in the seed reports (../shared/seeds), and well-known test figures.
SEED_BEST = {"mlp-mnist": 0.9762, "cnn-mnist": 0.9890}
REFERENCE = {"mlp-mnist": 0.984, "cnn-mnist": 0.993, "mlp-fashion-mnist": 0.90, "cnn-fashion-mnist": 0.925}


def measure(
    name: str,
    storage: str,
    *,
    seeds: int,
    data_dir: str | None,
    epochs: int | None = None,
    train_subset: int | str | None = None,
) -> dict:
    from autotune.reporting.chosen_trial import choose
    from autotune.reporting.final_model import retrain_and_test
    from autotune.storage.stored import open_context

    ctx = open_context(name, storage=storage, study_name=None, need_study=True)
    study, spec = ctx.study, ctx.spec
    states = [t.state for t in study.trials]
    chosen = choose(study, spec)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        final = retrain_and_test(
            spec,
            chosen,
            retrain_on="train+val",
            data_dir=data_dir,
            out=Path(tmp),
            seeds=seeds,
            epochs=epochs,
            train_subset=train_subset,
        )
        retrain_seconds = time.perf_counter() - start
    return {
        "study": study.study_name,
        "trials": len(states),
        "pruned": sum(s == optuna.trial.TrialState.PRUNED for s in states),
        "cpu_seconds": round(sum(t.duration.total_seconds() for t in study.trials if t.duration), 1),
        "threads": sorted({t.user_attrs.get("threads") for t in study.trials if t.user_attrs.get("threads")}),
        "best_trial": chosen.trial,
        "best_val_accuracy": chosen.value,
        "trial_epochs": spec.max_epochs,
        "trial_train_subset": spec.train_subset or "all",
        "final_epochs": final.epochs,
        "final_train_examples": final.train_examples,
        "test_accuracy_mean": final.test_accuracy_mean,
        "test_accuracy_std": final.test_accuracy_std,
        "test_seeds": [r.seed for r in final.runs],
        "test_accuracies": [r.test_accuracy for r in final.runs],
        "retrain_seconds": round(retrain_seconds, 1),
        "seed_report_best": SEED_BEST.get(spec.name),
        "reference": REFERENCE.get(spec.name),
        "spec": spec.name,
    }


def quick_study(folder: Path) -> str:
    """A 6-trial digits study (3 epochs) to tabulate in --quick mode; returns its storage URL."""
    from dataclasses import replace

    from autotune.execution.runner import run_study
    from autotune.spec.study import load_spec

    url = f"sqlite:///{folder / 'quick.db'}"
    run_study(replace(load_spec("mlp-digits"), max_epochs=3), n_trials=6, storage=url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--study",
        action="append",
        default=[],
        metavar="NAME=STORAGE",
        help="A stored study: its spec name (or YAML) and storage URL. Repeatable.",
    )
    parser.add_argument("--seeds", type=int, default=None, help="Retraining seeds (default 3; 2 with --quick).")
    parser.add_argument(
        "--epochs",
        action="append",
        default=[],
        metavar="NAME=N",
        help="Final-model epochs for study NAME (default: its spec's final.max_epochs, else the trials').",
    )
    parser.add_argument(
        "--train-subset",
        action="append",
        default=[],
        metavar="NAME=N|all",
        help="Final-model training examples for study NAME (default: its spec's final.train_subset).",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--quick", action="store_true", help="Run and tabulate a tiny digits study.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    seeds = args.seeds or (2 if args.quick else 3)
    pairs = [tuple(item.split("=", 1)) for item in args.study]
    if any(len(p) != 2 for p in pairs):
        parser.error("--study takes NAME=STORAGE")
    try:
        epochs = {k: int(v) for k, v in (item.split("=", 1) for item in args.epochs)}
        subsets = {k: v if v == "all" else int(v) for k, v in (item.split("=", 1) for item in args.train_subset)}
    except ValueError:
        parser.error("--epochs takes NAME=N, --train-subset NAME=N or NAME=all")
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            pairs.append(("mlp-digits", quick_study(Path(tmp))))
        if not pairs:
            parser.error("give --study NAME=STORAGE at least once, or --quick")
        rows = [
            measure(
                name, url, seeds=seeds, data_dir=args.data_dir, epochs=epochs.get(name), train_subset=subsets.get(name)
            )
            for name, url in pairs
        ]
    if args.json:
        print(json.dumps({"seeds": seeds, "rows": rows}, indent=1))
        return

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v * 100:.2f}%"

    print(
        "| study | trials (pruned) | time in trials (torch threads) | best validation | trial budget | "
        f"final model budget | test accuracy, mean ± std over {seeds} seeds | seed report's best (validation) | "
        "reference (test) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        threads = ",".join(map(str, r["threads"])) or "-"
        print(
            f"| {r['study']} | {r['trials']} ({r['pruned']}) | {r['cpu_seconds'] / 60:.1f} min ({threads}) | "
            f"{pct(r['best_val_accuracy'])} (trial {r['best_trial']}) | "
            f"{r['trial_epochs']} epochs, {r['trial_train_subset']} train | "
            f"{r['final_epochs']} epochs, {r['final_train_examples']} train+val | "
            f"{r['test_accuracy_mean'] * 100:.2f}%"
            + ("" if r["test_accuracy_std"] is None else f" ± {r['test_accuracy_std'] * 100:.2f}")
            + " | "
            f"{pct(r['seed_report_best'])} | {pct(r['reference'])} |"
        )


if __name__ == "__main__":
    main()
