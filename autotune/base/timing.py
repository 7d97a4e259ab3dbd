"""Where a trial's time goes (user attribute ``time_s``): the parts, their sums, and the line that shows them.

No torch here: reports and run summaries read the attribute without importing the trainer.
"""

from __future__ import annotations

from typing import Any

from autotune.words import i18n

#: The parts of a trial's time (user attribute ``time_s``), in the order they are shown.
TIME_PARTS = ("build", "train", "evaluate", "storage", "artifacts", "other")


def time_breakdown(result: Any, *, storage: float, artifacts: float, total: float) -> dict[str, float]:
    """Where a trial's ``total`` seconds went: building the model, training, evaluating on validation,
    storage calls (reports, pruning decisions, attributes; not those in ``artifacts``), the note,
    learning curve and checkpoint (``artifacts``), and the rest (sampling, seeding, progress display,
    the latency measurement) as ``other``. The parts add up to ``total`` (rounded to the millisecond)."""
    parts = {
        "build": result.times["build"],
        "train": result.times["train"],
        "evaluate": result.times["evaluate"],
        "storage": storage,
        "artifacts": artifacts,
    }
    parts["other"] = max(0.0, total - sum(parts.values()))
    return {k: round(v, 3) for k, v in parts.items()} | {"total": round(total, 3)}


def time_totals(trials: list[Any]) -> dict[str, Any]:
    """Seconds per part summed over the trials that recorded ``time_s`` (and how many did)."""
    timed = [t.user_attrs["time_s"] for t in trials if isinstance(t.user_attrs.get("time_s"), dict)]
    return {"trials": len(timed), **{k: round(sum(t.get(k, 0.0) for t in timed), 1) for k in (*TIME_PARTS, "total")}}


def time_line(totals: dict[str, Any], lang: str = "en") -> str | None:
    """``Time in N trials: train 81% (120.5 s), evaluate 12% (…), …`` largest first; None without timed trials."""

    if not totals["trials"] or not totals["total"]:
        return None
    parts = sorted(TIME_PARTS, key=lambda k: -totals[k])
    listed = i18n.say(lang, "sep").join(
        f"{i18n.say(lang, 'part_' + k)} {totals[k] / totals['total']:.0%} ({totals[k]:.1f} s)" for k in parts
    )
    return i18n.say(lang, "time_parts_line", n=totals["trials"], total=f"{totals['total']:.1f}", parts=listed)
