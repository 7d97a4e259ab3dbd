"""Ranking trials by their mean over shared seeds, on plain numbers: each trial's mean, spread and 95% interval,
and every other trial tested against the top one with a paired t-test across the seeds, Holm-corrected for the
comparisons (the tests are :mod:`autotune.analysis.stats`). A confirmation
(:func:`autotune.analysis.confirmation.confirm`) ranks its runs with :func:`rank`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from autotune.analysis.stats import ALPHA, MIN_SEEDS_FOR_P, holm, paired_p_value, same_difference, t_quantile

#: A mean with a spread needs two values; one seed measures nothing that a search did not.
MIN_SEEDS = 2
#: Every value a ranking row's ``versus_top`` can take (:func:`rank`); studies on disk store them as written here.
VERSUS_TOP = ("top", "worse", "indistinguishable", "too few seeds", "same difference on every seed", "diverged")


def rank(
    entries: Sequence[tuple[int, float, Sequence[float | None]]], *, direction: str, alpha: float = ALPHA
) -> dict[str, Any]:
    """Rank trials by their mean over the shared seeds and test each against the top one.

    ``entries``: (trial number, stored single-seed value, one value per shared seed, in seed order;
    None where the run diverged). Returns ``ranking`` (best mean first; a trial with a missing
    value has no mean and comes last), ``best_trial``, ``indistinguishable`` (the trials no test
    tells apart from the top one), ``worse`` (measurably worse: Holm-adjusted paired p <= ``alpha``)
    and ``diverged``. Each ranking row holds ``trial``, ``stored_value``, ``values``, ``mean``,
    ``std``, ``ci95`` (mean ± t(0.975, n-1)·std/√n; None below two values), ``p_value`` (the
    paired t-test against the top, None where none is run), ``p_holm`` and ``versus_top`` (one of
    :data:`VERSUS_TOP`: ``top``, ``worse``, ``indistinguishable``, ``too few seeds``, ``same difference
    on every seed`` or ``diverged``).
    """
    sign = 1.0 if direction == "maximize" else -1.0
    rows = [_summary(trial, stored, list(values)) for trial, stored, values in entries]
    rows.sort(key=lambda r: (r["mean"] is None, -sign * (r["mean"] or 0.0), r["trial"]))
    if not rows:
        return {"ranking": [], "best_trial": None, "indistinguishable": [], "worse": [], "diverged": []}
    top = rows[0]
    if top["mean"] is None:  # every trial diverged on some seed: there is no best mean
        for r in rows:
            r["versus_top"] = "diverged"
        return {
            "ranking": rows,
            "best_trial": None,
            "indistinguishable": [],
            "worse": [],
            "diverged": [r["trial"] for r in rows],
        }
    top["versus_top"] = "top"
    others = rows[1:]
    for r in others:
        if r["mean"] is None:
            r["versus_top"] = "diverged"
        elif len(r["values"]) < MIN_SEEDS_FOR_P:
            r["versus_top"] = "too few seeds"
        elif same_difference(r["values"], top["values"]):
            r["versus_top"] = "same difference on every seed"
        else:
            r["p_value"] = paired_p_value(r["values"], top["values"])
    tested = [r for r in others if r["p_value"] is not None]
    for r, adjusted in zip(tested, holm([r["p_value"] for r in tested], m=len(others))):
        r["p_holm"] = adjusted
        r["versus_top"] = "worse" if adjusted <= alpha else "indistinguishable"
    return {
        "ranking": rows,
        "best_trial": top["trial"],
        "indistinguishable": [r["trial"] for r in others if r["versus_top"] not in ("worse", "diverged")],
        "worse": [r["trial"] for r in others if r["versus_top"] == "worse"],
        "diverged": [r["trial"] for r in others if r["versus_top"] == "diverged"],
    }


def _summary(trial: int, stored: float, values: list[float | None]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trial": trial,
        "stored_value": stored,
        "values": values,
        "mean": None,
        "std": None,
        "ci95": None,
        "p_value": None,
        "p_holm": None,
        "versus_top": None,
    }
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return row
    row["mean"] = statistics.fmean(values)
    if len(values) >= MIN_SEEDS:
        row["std"] = statistics.stdev(values)
        half = t_quantile(0.975, len(values) - 1) * row["std"] / math.sqrt(len(values))
        row["ci95"] = [row["mean"] - half, row["mean"] + half]
    return row
