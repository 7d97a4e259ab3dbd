"""Benchmark: torch threads on a quiet machine and beside a competing CPU-bound process.

Times whole ``autotune run`` commands as a user types them, each arm in a fresh folder with a fresh SQLite
study, the arms interleaved within each repetition (their order alternates), first on a quiet machine and then
beside one ``python3 -c 'while True: pass'`` (the standard competing load: another program using one core).

Arms: ``--threads C`` (C = the usable cores: torch's own choice, the default before 2026-12-07),
``--threads 1``, and the command with no ``--threads`` at all (today's default, whatever it is). Prints each
run, then per command and condition the median wall time of each arm and its ratio to ``--threads 1``
measured in the same run.

    AUTOTUNE_DATA_DIR=../shared/data .venv/bin/python scripts/bench_threads.py            # demo + 10 mlp-mnist
    .venv/bin/python scripts/bench_threads.py --commands demo --reps 1                    # quick
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotune.hardware.devices import cpu_model, usable_cores  # noqa: E402

COMMANDS = {  # name: the arguments after `autotune`
    "demo": ["run", "--study", "mlp-digits", "--trials", "20"],
    "mnist10": ["run", "--study", "mlp-mnist", "--trials", "10"],
}
BUSY = [sys.executable, "-c", "while True: pass"]


ARMS = ("cores", "one", "default")


def arms(names: list[str]) -> dict[str, list[str]]:
    """The arms named (cores, one, default): each one's label and the `--threads` arguments it adds."""
    cores = usable_cores()
    every = {
        "cores": (f"--threads {cores}", ["--threads", str(cores)]),
        "one": ("--threads 1", ["--threads", "1"]),
        "default": ("default", []),
    }
    return dict(every[arm] for arm in names)


def timed(args: list[str], folder: Path) -> float:
    exe = Path(sys.executable).with_name("autotune")
    start = time.perf_counter()
    subprocess.run(
        [str(exe), *args, "--storage", "sqlite:///s.db", "-q"], cwd=folder, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def measure(command: str, condition: str, reps: int, tmp: Path, chosen: dict[str, list[str]]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {arm: [] for arm in chosen}
    busy = subprocess.Popen(BUSY) if condition == "busy" else None
    try:
        for rep in range(reps):
            order = list(chosen.items())
            if rep % 2:
                order.reverse()
            for arm, extra in order:
                folder = Path(tempfile.mkdtemp(dir=tmp))
                seconds = timed(COMMANDS[command] + extra, folder)
                times[arm].append(seconds)
                print(f"  {command} {condition} rep {rep + 1} {arm}: {seconds:.1f} s", flush=True)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", default="demo,mnist10", help="comma-separated: " + ", ".join(COMMANDS))
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--conditions", default="quiet,busy")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated: cores, one, default")
    opts = parser.parse_args()
    chosen = arms(opts.arms.split(","))
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {cpu_model()}, "
        f"{usable_cores()} usable cores, load average at start {os.getloadavg()[0]:.2f}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for command in opts.commands.split(","):
            for condition in opts.conditions.split(","):
                results[command, condition] = measure(command, condition, opts.reps, Path(tmp), chosen)
    print(
        "\n| command | condition | "
        + " | ".join(chosen)
        + " | "
        + " | ".join(f"{arm} / --threads 1" for arm in chosen if arm != "--threads 1")
        + " |"
    )
    print("|---|---|" + "---:|" * (2 * len(chosen) - 1))
    for (command, condition), times in results.items():
        med = {arm: statistics.median(values) for arm, values in times.items()}
        cells = [f"{med[arm]:.1f} s ({', '.join(f'{v:.1f}' for v in times[arm])})" for arm in chosen]
        ratios = [f"{med[arm] / med['--threads 1']:.2f}×" for arm in chosen if arm != "--threads 1"]
        print(f"| {command} | {condition} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
