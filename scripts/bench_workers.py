"""Benchmark: parallel workers and storage overhead.

1. Trials per hour with 1 worker (all cores) vs 2 workers (cores split between them) on the
   same study budget, measured back to back in one run; prints the ratio.
2. Storage overhead per trial (ms) with a trivial objective, for Optuna's in-memory storage
   (the baseline), SQLite and PostgreSQL (when $AUTOTUNE_TEST_POSTGRES_URL is set), through
   plain ``study.optimize`` and through autotune's worker loop (slot lock + heartbeat).

    .venv/bin/python scripts/bench_workers.py            # full
    .venv/bin/python scripts/bench_workers.py --quick    # a smoke run (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune.runner import run_study, work  # noqa: E402
from autotune.spec import load_spec, parse_spec  # noqa: E402
from autotune.storage import open_storage  # noqa: E402


def bench_workers(n_trials: int, tmp: Path) -> dict:
    """Same spec, same budget (no pruning, random sampler: equal work per arm), 1 vs 2 workers."""
    data = load_spec("mlp-digits").to_dict()
    data.update(name="bench-workers", sampler={"name": "random"}, pruner={"name": "none"})
    spec = parse_spec(data)
    cores = os.cpu_count() or 1
    out = {}
    for workers in (1, 2):
        url = f"sqlite:///{tmp / f'workers-{workers}.db'}"
        start = time.perf_counter()
        summary = run_study(spec, n_trials=n_trials, storage=url, workers=workers,
                            threads=cores if workers == 1 else None)
        seconds = time.perf_counter() - start
        assert summary.finished == n_trials, summary
        out[workers] = {"seconds": round(seconds, 2), "trials_per_hour": round(n_trials * 3600 / seconds, 1)}
    out["ratio_2_vs_1"] = round(out[2]["trials_per_hour"] / out[1]["trials_per_hour"], 2)
    return out


def _trivial(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", -1, 1) ** 2


def bench_storage(n_trials: int, tmp: Path) -> dict:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    urls = {"in-memory": None, "sqlite": f"sqlite:///{tmp / 'overhead.db'}"}
    if os.environ.get("AUTOTUNE_TEST_POSTGRES_URL"):
        urls["postgresql"] = os.environ["AUTOTUNE_TEST_POSTGRES_URL"]
    results: dict = {}
    for name, url in urls.items():
        row = {}
        for mode in ("optuna", "autotune"):
            study_name = f"overhead-{mode}-{time.time_ns()}"
            storage = open_storage(url) if url else optuna.storages.InMemoryStorage()
            study = optuna.create_study(storage=storage, study_name=study_name,
                                        sampler=optuna.samplers.RandomSampler(seed=0))
            start = time.perf_counter()
            if mode == "optuna":
                study.optimize(_trivial, n_trials=n_trials)
            else:
                work(study, _trivial, target=n_trials, url=url)
            row[mode] = round((time.perf_counter() - start) * 1000 / n_trials, 2)
        results[name] = row
    base = results["in-memory"]["optuna"]
    for row in results.values():
        row["optuna_x_in_memory"] = round(row["optuna"] / base, 1)
        row["autotune_x_in_memory"] = round(row["autotune"] / base, 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets: a smoke run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            "machine": f"{os.cpu_count()} cores, torch threads default",
            "workers": bench_workers(4 if args.quick else 60, Path(tmp)),
            "storage_ms_per_trial": bench_storage(20 if args.quick else 200, Path(tmp)),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    w = results["workers"]
    print(f"workers: 1 worker {w[1]['trials_per_hour']} trials/h ({w[1]['seconds']} s), "
          f"2 workers {w[2]['trials_per_hour']} trials/h ({w[2]['seconds']} s): ratio {w['ratio_2_vs_1']}x")
    print("storage overhead per trial (ms), trivial objective:")
    print(f"  {'storage':<12}{'optuna':>10}{'x mem':>8}{'autotune':>10}{'x mem':>8}")
    for name, row in results["storage_ms_per_trial"].items():
        print(f"  {name:<12}{row['optuna']:>10}{row['optuna_x_in_memory']:>8}{row['autotune']:>10}"
              f"{row['autotune_x_in_memory']:>8}")


if __name__ == "__main__":
    main()
