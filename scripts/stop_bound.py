"""What any stopping rule could at best save on a stored ``bench_search.py`` run: an oracle bound.

For each repetition of an arm that ran its full budget, the best validation accuracy reached by a
fraction of the budget is compared with the best at the full budget. A stopping rule that saves a
fraction ``1 - f`` of the compute can at best stop at ``f`` of the budget in every repetition, so its
loss is at least the loss printed for ``f`` (a real rule stops early in some repetitions and late in
others). Reads the JSON that ``bench_search.py --json`` writes; trains nothing.

    .venv/bin/python scripts/stop_bound.py docs/bench-search-stop.json [--arm tpe+sha] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

FRACTIONS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def bound(runs: list[list[tuple[float, float]]], budget: float, fractions=FRACTIONS) -> list[dict]:
    """Per fraction f of ``budget``: each repetition's best value at f and its gap to the best at the full
    budget. ``runs``: per repetition, (epochs trained so far, the value of the trial that ended there)."""
    rows = []
    for f in fractions:
        best = [max((v for e, v in run if e <= f * budget), default=float("nan")) for run in runs]
        gaps = [max(v for _, v in run) - b for run, b in zip(runs, best)]
        rows.append(
            {
                "fraction": f,
                "saved": round(1 - f, 2),
                "best": best,
                "gap": gaps,
                "gap_mean": statistics.fmean(gaps),
                "gap_max": max(gaps),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a bench_search.py --json output")
    parser.add_argument("--arm", default="tpe+sha", help="an arm that ran the full budget")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = json.loads(args.results.read_text())
    rows = bound(data["runs"][args.arm], data["budget_epochs"])
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{args.arm}, {len(data['runs'][args.arm])} repetitions, budget {data['budget_epochs']} epochs:")
    print(f"{'stop at':>8} {'saved':>6} {'best (mean)':>12} {'gap to full: mean':>18} {'max':>7}")
    for r in rows:
        print(
            f"{r['fraction']:>8.0%} {r['saved']:>6.0%} {statistics.fmean(r['best']) * 100:>11.2f}% "
            f"{r['gap_mean'] * 100:>14.2f} pp {r['gap_max'] * 100:>5.2f} pp"
        )


if __name__ == "__main__":
    main()
