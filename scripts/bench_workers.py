"""Benchmark: parallel workers and storage overhead.

1. Trials per hour with 1 worker (all cores) vs 2 workers (cores split between them), started as
   fresh processes and forked, on the same study budget, interleaved in one run; prints the
   ratios and each arm's start-up.
2. Storage overhead per trial (ms) with a trivial objective, for Optuna's in-memory storage
   (the baseline), SQLite and PostgreSQL (when $AUTOTUNE_TEST_POSTGRES_URL is set), through
   plain ``study.optimize`` and through autotune's worker loop (slot lock + heartbeat).

    .venv/bin/python scripts/bench_workers.py            # full
    .venv/bin/python scripts/bench_workers.py --quick    # a smoke run (CI)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import optuna

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune.execution import runner, worker_loop  # noqa: E402
from autotune.spec.study import load_spec, parse_spec  # noqa: E402
from autotune.storage.studies import open_storage  # noqa: E402

ARMS = {  # name: (workers, threads per worker or None for cores // workers, fork)
    "1 worker": (1, "cores", True),
    "2 workers, fresh processes": (2, None, False),
    "2 workers, forked": (2, None, True),
}


def bench_workers(n_trials: int, tmp: Path, reps: int = 1) -> dict:
    """Same spec, same budget (no pruning, random sampler: equal work per arm): one worker with every core's
    thread, two workers started as fresh processes (each imports torch and loads the data), and two workers
    forked after the data were loaded, interleaved ``reps`` times. Start-up: from the command's start to each
    worker's first trial (the slowest worker's)."""
    data = load_spec("mlp-digits").to_dict()
    data.update(name="bench-workers", sampler={"name": "random"}, pruner={"name": "none"})
    spec = parse_spec(data)
    cores = os.cpu_count() or 1
    runs: dict[str, list[dict]] = {arm: [] for arm in ARMS}
    runner.run_study(spec, n_trials=1, storage=f"sqlite:///{tmp / 'warm-up.db'}")  # first imports: no arm's start-up
    for rep in range(reps):
        for arm, (workers, threads, fork) in ARMS.items():
            url = f"sqlite:///{tmp / f'workers-{rep}-{len(runs[arm])}-{workers}-{int(fork)}.db'}"
            os.environ["AUTOTUNE_FORK_WORKERS"] = "1" if fork else "0"
            t0 = datetime.datetime.now()
            start = time.perf_counter()
            summary = runner.run_study(
                spec, n_trials=n_trials, storage=url, workers=workers, threads=cores if threads == "cores" else threads
            )
            seconds = time.perf_counter() - start
            assert summary.finished == n_trials, summary
            trials = optuna.load_study(study_name=spec.name, storage=url).trials
            first: dict[str, datetime.datetime] = {}
            for t in trials:
                w = t.user_attrs["worker"]
                first[w] = min(first.get(w, t.datetime_start), t.datetime_start)
            runs[arm].append(
                {
                    "seconds": round(seconds, 2),
                    "trials_per_hour": round(n_trials * 3600 / seconds, 1),
                    "startup_s": round(max((d - t0).total_seconds() for d in first.values()), 2),
                }
            )
    os.environ.pop("AUTOTUNE_FORK_WORKERS", None)
    out: dict = {}
    for arm, rows in runs.items():
        out[arm] = {
            "runs": rows,
            "seconds": round(statistics.median(r["seconds"] for r in rows), 2),
            "trials_per_hour": round(statistics.median(r["trials_per_hour"] for r in rows), 1),
            "startup_s": round(statistics.median(r["startup_s"] for r in rows), 2),
        }
    base = out["1 worker"]
    for arm in ARMS:
        out[arm]["ratio_vs_1"] = round(out[arm]["trials_per_hour"] / base["trials_per_hour"], 2)
        out[arm]["extra_startup_s"] = round(out[arm]["startup_s"] - base["startup_s"], 2)
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
            study = optuna.create_study(
                storage=storage, study_name=study_name, sampler=optuna.samplers.RandomSampler(seed=0)
            )
            start = time.perf_counter()
            if mode == "optuna":
                study.optimize(_trivial, n_trials=n_trials)
            else:
                worker_loop.work(study, _trivial, target=n_trials, url=url)
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
    parser.add_argument("--reps", type=int, default=1, help="interleaved repetitions of the worker arms (medians)")
    args = parser.parse_args()
    from autotune.hardware.devices import cpu_model

    with tempfile.TemporaryDirectory() as tmp:
        results = {
            "machine": f"{cpu_model()}, {os.cpu_count()} cores, torch threads default",
            "workers": bench_workers(4 if args.quick else 60, Path(tmp), reps=args.reps),
            "storage_ms_per_trial": bench_storage(20 if args.quick else 200, Path(tmp)),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        "workers (medians): trials/hour, wall time, ratio to one worker, start-up (to the slowest worker's "
        "first trial) and its excess over one worker's:"
    )
    for arm, row in results["workers"].items():
        print(
            f"  {arm:<28}{row['trials_per_hour']:>9} /h {row['seconds']:>8} s {row['ratio_vs_1']:>6}x "
            f"start-up {row['startup_s']} s (+{row['extra_startup_s']} s)"
        )
    print("storage overhead per trial (ms), trivial objective:")
    print(f"  {'storage':<12}{'optuna':>10}{'x mem':>8}{'autotune':>10}{'x mem':>8}")
    for name, row in results["storage_ms_per_trial"].items():
        print(
            f"  {name:<12}{row['optuna']:>10}{row['optuna_x_in_memory']:>8}{row['autotune']:>10}"
            f"{row['autotune_x_in_memory']:>8}"
        )


if __name__ == "__main__":
    main()
