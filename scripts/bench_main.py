"""Benchmark: the main job as a user types it, today's settings against the candidate default (`--workers auto`),
in one sitting.

Each arm runs ``autotune run --study mlp-mnist --trials 100`` as a fresh process in its own empty
folder (its own ``autotune.db``), with ``--json`` for a summary that can be read back; the arms differ
only in the options named below. Then the exported best of each study (the confirmed best where the
spec confirms) is retrained on train+validation with 3 seeds and tested once per seed, exactly as
``autotune export --seeds 3`` does (``scripts/bench_accuracy.py``'s ``measure``).

Reported per arm: wall time (the search's share, and the rest: start-up and the confirmation), trials, pruned,
epochs trained, best validation accuracy, and the test accuracy (mean ± std over the seeds).

    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_main.py --json
    .venv/bin/python scripts/bench_main.py --quick     # mlp-digits, 6 trials: a smoke run (tests)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

#: arm: the options added to the user's command. The second arm is the candidate default that the rule in
#: BENCHMARKS.md decides on (``run``'s default stays one worker unless it passes).
ARMS = {
    "today's settings (--workers 1)": ["--workers", "1"],
    "candidate default (--workers auto)": ["--workers", "auto"],
}


def run_arm(study: str, trials: int, extra: list[str], folder: Path) -> dict:
    import optuna

    cmd = [sys.executable, "-m", "autotune.cli", "run", "--study", study, "--trials", str(trials), *extra, "--json"]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    summary = json.loads(done.stdout)
    url = f"sqlite:///{folder / 'autotune.db'}"
    study_obj = optuna.load_study(study_name=study, storage=url)
    trials_ = study_obj.get_trials(deepcopy=False)
    epochs = sum(len(t.intermediate_values) for t in trials_)
    pruned = sum(t.state.name == "PRUNED" for t in trials_)
    complete = [t for t in trials_ if t.state.name == "COMPLETE"]
    outside = seconds - summary["seconds"]  # start-up (imports, data) and the confirmation after the search
    return {
        "command": " ".join(["autotune", *cmd[3:]]),
        "seconds": round(seconds, 1),
        "search_s": round(summary["seconds"], 1),
        "outside_search_s": round(outside, 1),
        "confirmed": summary.get("confirmation") is not None,
        "workers": summary.get("workers"),
        "trials": len(trials_),
        "pruned": pruned,
        "epochs": epochs,
        "best_val": max(t.value for t in complete),
        "storage": url,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="mlp-digits, 6 trials, 2 seeds: a smoke run")
    parser.add_argument("--seeds", type=int, default=None, help="test seeds per exported best (default 3)")
    parser.add_argument("--keep", default=None, metavar="DIR", help="keep the arms' folders under DIR")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from bench_accuracy import measure

    study, trials = ("mlp-digits", 6) if args.quick else ("mlp-mnist", 100)
    seeds = args.seeds or (2 if args.quick else 3)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-main-"))
    from autotune.hardware.devices import cpu_model

    results: dict = {"study": study, "trials": trials, "cores": os.cpu_count(), "cpu": cpu_model(), "arms": {}}
    for i, (arm, extra) in enumerate(ARMS.items()):
        folder = base / f"arm{i}"
        folder.mkdir(parents=True, exist_ok=False)
        row = run_arm(study, trials, extra, folder)
        acc = measure(study, row["storage"], seeds=seeds, data_dir=os.environ.get("AUTOTUNE_DATA_DIR"))
        row.update(
            test_mean=acc["test_accuracy_mean"],
            test_std=acc["test_accuracy_std"],
            test_seeds=acc["test_accuracies"],
            exported_trial=acc["best_trial"],
        )
        results["arms"][arm] = row
        (base / "partial.json").write_text(json.dumps(results, indent=2))  # what a stopped sitting keeps
    rows = list(results["arms"].values())
    results["wall_ratio_auto_vs_today"] = round(rows[1]["seconds"] / rows[0]["seconds"], 3)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for arm, r in results["arms"].items():
        print(
            f"{arm}: {r['seconds']} s (search {r['search_s']} s, start-up and confirmation "
            f"{r['outside_search_s']} s), workers "
            f"{r['workers']}, {r['trials']} trials, {r['pruned']} pruned, {r['epochs']} epochs, best val "
            f"{r['best_val']:.4f}, test {r['test_mean']:.4f} ± {r['test_std']:.4f} (trial {r['exported_trial']})"
        )
    print(f"wall time, --workers auto ÷ today: {results['wall_ratio_auto_vs_today']}")


if __name__ == "__main__":
    main()
