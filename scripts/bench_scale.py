"""Benchmark: many workers on one PostgreSQL study, with a cheap objective.

For each worker count (default 8, 32, 64), a fresh database on the PostgreSQL server, one study
(TPE as the shipped specs use it, or --sampler random) and that many worker *processes*, each
running autotune's own worker loop (`autotune.execution.worker_loop.work`: the claim under the study's advisory
lock, heartbeats, re-queueing) on an objective that suggests two floats and then waits --work
seconds (a stand-in for training that costs no CPU, so the storage and the sampler are what is
measured). The study's target is --trials-per-worker x workers. Printed per count:
- trials/second over the run (the first trial's start to the last trial's end);
- p50 / p99 of the gap between one trial's end and the next trial's start in the same worker
  (the claim: the lock, reading the study, the sampler, the database round trips);
- the peak number of connections to the database (pg_stat_activity, polled every 50 ms);
- whether the study ended with exactly the target (finished trials) and how many failed.

    .venv/bin/python scripts/bench_scale.py --storage postgresql+psycopg://postgres@127.0.0.1:55432/autotune
    ... --workers 8,32,64 --trials-per-worker 10 --work 0.2 --sampler tpe --json

The server's max_connections must exceed the peak (each worker holds up to $AUTOTUNE_DB_POOL_SIZE
pooled connections, 2 by default, plus one while it claims); scripts/pg.sh's server allows 100.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def worker_main(url: str, study_name: str, target: int, work_s: float, sampler: str) -> None:
    """One worker process: autotune's worker loop on the cheap objective."""
    import optuna

    from autotune.execution.worker_loop import work
    from autotune.storage.studies import open_storage

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    made = optuna.samplers.TPESampler(n_startup_trials=10) if sampler == "tpe" else optuna.samplers.RandomSampler()
    study = optuna.load_study(study_name=study_name, storage=open_storage(url), sampler=made)
    pid = os.getpid()

    def objective(trial: optuna.Trial) -> float:
        x, y = trial.suggest_float("x", -10, 10), trial.suggest_float("y", -10, 10)
        trial.set_user_attr("worker", pid)
        time.sleep(work_s)
        return x * x + y * y

    work(study, objective, target=target, url=url)


def admin_url(server: str, database: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + database


def one_count(server: str, workers: int, per_worker: int, work_s: float, sampler: str) -> dict:
    import optuna
    import sqlalchemy

    from autotune.storage.studies import open_storage

    name = "scale_" + uuid.uuid4().hex[:10]
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as con:
        con.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    url = admin_url(server, name)
    target = workers * per_worker
    try:
        made = open_storage(url)
        optuna.create_study(study_name="scale", storage=made, direction="minimize")
        made.engine.dispose()  # only the workers' connections count
        peak, stop = [0], threading.Event()

        def poll() -> None:
            with admin.connect() as con:
                while not stop.is_set():
                    n = con.execute(
                        sqlalchemy.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": name}
                    ).scalar()
                    peak[0] = max(peak[0], int(n))
                    stop.wait(0.05)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        started = time.perf_counter()
        cmd = [sys.executable, __file__, "--worker", url, "scale", str(target), str(work_s), sampler]
        procs = [
            subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(workers)
        ]
        errors = [p.communicate()[1] for p in procs]
        wall = time.perf_counter() - started
        stop.set()
        watcher.join()
        study = optuna.load_study(study_name="scale", storage=url)
        trials = study.get_trials(deepcopy=False)
        done = [t for t in trials if t.state.name == "COMPLETE"]
        first = min(t.datetime_start for t in done)
        last = max(t.datetime_complete for t in done)
        gaps = []
        by_worker: dict[int, list] = {}
        for t in done:
            by_worker.setdefault(t.user_attrs["worker"], []).append(t)
        for ts in by_worker.values():
            ts.sort(key=lambda t: t.datetime_start)
            gaps += [(b.datetime_start - a.datetime_complete).total_seconds() for a, b in zip(ts, ts[1:])]
        gaps.sort()
        span = (last - first).total_seconds()
        return {
            "workers": workers,
            "target": target,
            "finished": len(done),
            "failed": sum(t.state.name == "FAIL" for t in trials),
            "exact": len(done) == target,
            "workers_with_trials": len(by_worker),
            "trials_per_s": round(len(done) / span, 2),
            "gap_p50_ms": round(1000 * gaps[len(gaps) // 2], 1) if gaps else None,
            "gap_p99_ms": round(1000 * gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))], 1) if gaps else None,
            "peak_connections": peak[0],
            "wall_s": round(wall, 1),
            "span_s": round(span, 1),
            "worker_errors": [e.strip().splitlines()[-1] for e in errors if e.strip()][:3],
        }
    finally:
        with admin.connect() as con:
            con.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        url, study, target, work_s, sampler = sys.argv[2:7]
        worker_main(url, study, int(target), float(work_s), sampler)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--storage",
        default=os.environ.get("AUTOTUNE_TEST_POSTGRES_URL"),
        help="A PostgreSQL URL whose user may create databases [default: $AUTOTUNE_TEST_POSTGRES_URL].",
    )
    parser.add_argument("--workers", default="8,32,64", help="Comma-separated worker counts (default 8,32,64).")
    parser.add_argument("--trials-per-worker", type=int, default=10)
    parser.add_argument("--work", type=float, default=0.2, help="Seconds each trial waits (default 0.2).")
    parser.add_argument("--sampler", choices=("tpe", "random"), default="tpe")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.storage or not args.storage.startswith("postgresql"):
        parser.error("--storage: give a PostgreSQL URL (bash scripts/pg.sh start DIR PORT prints one)")
    counts = [int(c) for c in args.workers.split(",") if c.strip()]
    if not counts or min(counts) < 1:
        parser.error(f"--workers: positive counts, got {args.workers!r}")
    rows = [one_count(args.storage, k, args.trials_per_worker, args.work, args.sampler) for k in counts]
    result = {
        "sampler": args.sampler,
        "work_s": args.work,
        "trials_per_worker": args.trials_per_worker,
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(
        f"{args.sampler} sampler, {args.work} s of waiting per trial, {args.trials_per_worker} trials per worker, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{'workers':>7} {'trials/s':>9} {'gap p50 ms':>11} {'gap p99 ms':>11} {'peak conns':>11} {'exact':>6} "
        f"{'failed':>7} {'wall s':>7}"
    )
    for r in rows:
        print(
            f"{r['workers']:>7} {r['trials_per_s']:>9.2f} {r['gap_p50_ms']!s:>11} {r['gap_p99_ms']!s:>11} "
            f"{r['peak_connections']:>11} {str(r['finished']) + '/' + str(r['target']):>6} {r['failed']:>7} "
            f"{r['wall_s']:>7}"
        )
        for e in r["worker_errors"]:
            print(f"        a worker said: {e}")


if __name__ == "__main__":
    main()
