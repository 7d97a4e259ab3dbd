"""The words of a confirmation, in English or Chinese: values and intervals in the metric's units, lists of
trials, the verdict word of each ``versus_top`` value, and the note of a study with fewer trials than asked for
(stored in English, said again in the reader's language). :func:`autotune.analysis.confirmation.lines` and
:func:`autotune.analysis.confirmation.table_parts` put them together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from autotune.words import i18n

#: The i18n key of each value a ranking row's ``versus_top`` can take
#: (:data:`autotune.analysis.seed_ranking.VERSUS_TOP`), named one by one: the values are stored in studies on
#: disk and read back as they were written, and a value without a key here fails at once rather than forming
#: the name of a key that does not exist.
VERSUS_KEYS = {
    "top": "cf_v_top",
    "worse": "cf_v_worse",
    "indistinguishable": "cf_v_indistinguishable",
    "too few seeds": "cf_v_too_few_seeds",
    "same difference on every seed": "cf_v_same_difference_on_every_seed",
    "diverged": "cf_v_diverged",
}

_FEWER = re.compile(
    r"study '(?P<study>.+)' has (?P<n>\d+) complete trial\(s\)(?P<constraints> that meet its "
    r"constraints)?(?P<own> of autotune's own)?, fewer than the (?P<top>\d+) asked for: confirming "
    r"those \d+"
)


def versus_word(versus_top: str | None, lang: str = "en") -> str:
    """A ranking row's ``versus_top`` in ``lang`` (``-`` where the row has none)."""
    return i18n.say(lang, VERSUS_KEYS[versus_top]) if versus_top else "-"


def fewer_note(lang: str, *, study: str, n: Any, top: Any, constraints: bool, own: bool) -> str:
    """The note of a confirmation that found ``n`` trials where ``top`` were asked for: ``constraints``, counting only
    the trials that meet the spec's constraints; ``own``, only autotune's own (the study holds hand rows)."""
    which = i18n.say(lang, "cf_fewer_constraints" if constraints else "cf_fewer_complete")
    which += i18n.say(lang, "cf_fewer_own") if own else ""
    return i18n.say(lang, "cf_fewer", study=study, n=n, top=top, which=which)


def note_in(note: str, lang: str) -> str:
    """A stored note (English, as :func:`fewer_note` wrote it) in ``lang``; one it does not know stays as it is."""
    match = _FEWER.fullmatch(note)
    if lang == "en" or match is None:
        return note
    return fewer_note(
        lang,
        study=match["study"],
        n=match["n"],
        top=match["top"],
        constraints=bool(match["constraints"]),
        own=bool(match["own"]),
    )


def in_units(record: dict[str, Any], value: float) -> str:
    """A value of the record's metric as printed: ``96.40%`` for an accuracy, else four significant digits."""
    return f"{value * 100:.2f}%" if record["metric"] == "val_accuracy" else f"{value:.4g}"


def difference(record: dict[str, Any], value: float, lang: str = "en") -> str:
    """A difference of the record's metric as printed: percentage points for an accuracy."""
    return f"{value * 100:.2f} {i18n.points(lang)}" if record["metric"] == "val_accuracy" else f"{value:.4g}"


def bounded(record: dict[str, Any], ci: Sequence[float] | None) -> tuple[float, float] | None:
    """An interval as shown, in words or in a figure: an accuracy's stops at 0% and 100%, which a t-interval over
    few seeds can pass but no accuracy can; None without one."""
    if ci is None:
        return None
    return (max(0.0, ci[0]), min(1.0, ci[1])) if record["metric"] == "val_accuracy" else (ci[0], ci[1])


def ci_text(record: dict[str, Any], ci: Sequence[float] | None) -> str:
    """An interval as printed (``[95.40%, 97.40%]``, or ``-`` without one), :func:`bounded`."""
    shown = bounded(record, ci)
    return "-" if shown is None else f"[{in_units(record, shown[0])}, {in_units(record, shown[1])}]"


def interval(record: dict[str, Any], row: dict[str, Any]) -> str:
    """A ranking row's 95% interval as printed (``[95.40%, 97.40%]``, or ``-`` without one)."""
    return ci_text(record, row["ci95"])


def trial_list(rows: list[dict[str, Any]], key: str | None = None, lang: str = "en") -> str:
    """The rows' trial numbers, each with its p-value ``key`` where it has one."""

    def one(r: dict[str, Any]) -> str:
        return str(r["trial"]) if key is None or r[key] is None else f"{r['trial']} (p={r[key]:.3g})"

    return i18n.say(lang, "sep").join(one(r) for r in rows)


def number_list(numbers: Sequence[int], most: int = 8) -> str:
    """At most ``most`` numbers, then how many more."""
    shown = ", ".join(map(str, numbers[:most]))
    return shown + (f" and {len(numbers) - most} more" if len(numbers) > most else "")
