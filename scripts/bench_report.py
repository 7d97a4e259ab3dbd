"""Benchmark: how long `autotune report` takes on a large study.

Builds studies of N trials with a cheap synthetic objective over mlp-mnist's real search
space (with the user attributes and learning curves a real run stores), then times the report.
The baseline is a 200-trial study built and reported in the same run.

    .venv/bin/python scripts/bench_report.py            # 200 vs 2,000 trials
    .venv/bin/python scripts/bench_report.py --quick    # 20 vs 100 trials (CI smoke run)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune.reporting.reports import build_report  # noqa: E402
from autotune.search.space import suggest  # noqa: E402
from autotune.spec.study import load_spec  # noqa: E402
from autotune.storage.studies import create_or_load_study, open_storage  # noqa: E402


def synthetic_study(n: int, url: str) -> optuna.Study:
    spec = load_spec("mlp-mnist")
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = create_or_load_study(
        open_storage(url),
        spec,
        study_name="synthetic",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5),
    )

    def objective(trial: optuna.Trial) -> float:
        config = suggest(trial, spec)
        score = 0.99 - 0.02 * abs(math.log10(config["lr"]) + 2.5) - 0.01 * (config["init"] == "zeros") * 80
        for epoch in range(1, 5):
            value = score - 0.1 / epoch
            trial.report(value, epoch)
            if trial.should_prune():
                trial.set_user_attr("epochs", epoch)
                raise optuna.TrialPruned()
        trial.set_user_attr("epochs", 4)
        trial.set_user_attr("structure", "[784," + ",".join(map(str, config["units"])) + ",10]")
        trial.set_user_attr("train_loss", 0.05)
        trial.set_user_attr("val_accuracy", score)
        trial.set_user_attr("remark", "synthetic")
        return score

    study.optimize(objective, n_trials=n)
    return study


def time_report(n: int, tmp: Path) -> dict:
    start = time.perf_counter()
    study = synthetic_study(n, f"sqlite:///{tmp / f'synthetic-{n}.db'}")
    built = time.perf_counter() - start
    start = time.perf_counter()
    result = build_report(study, load_spec("mlp-mnist"), out_dir=tmp / f"report-{n}", storage="synthetic")
    seconds = time.perf_counter() - start
    return {
        "trials": n,
        "build_study_s": round(built, 1),
        "report_s": round(seconds, 1),
        "figures": len(result["figures"]),
        "notes": result["notes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small studies: a smoke run")
    args = parser.parse_args()
    small, large = (20, 100) if args.quick else (200, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        base = time_report(small, Path(tmp))
        big = time_report(large, Path(tmp))
    print(
        json.dumps(
            {
                "baseline": base,
                "large": big,
                "ratio_time": round(big["report_s"] / base["report_s"], 2),
                "ratio_trials": large / small,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
