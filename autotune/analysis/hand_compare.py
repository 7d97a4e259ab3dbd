"""A report's "by hand vs automated" section: the best of the imported hand table against autotune's own best.

Numbers first (:func:`numbers`, written to ``data/hand_vs_auto.json``), then the sentences in the report's
language (:func:`lines`). A hand trial is one ``autotune import`` stored with its recorded result
(``source: hand``); every other complete trial was trained by autotune.
"""

from __future__ import annotations

import functools
from typing import Any

import optuna

from autotune.analysis import summary as analysis
from autotune.spec.study import StudySpec
from autotune.words import i18n


def numbers(study: optuna.Study, spec: StudySpec) -> dict[str, Any] | None:
    """The hand table's best and autotune's best, with the epochs each took; None without hand trials (or with
    several objectives, where no single best exists)."""
    if spec.multi_objective:
        return None
    complete = analysis.complete(study)
    hand = [t for t in complete if analysis.by_hand(t)]
    if not hand:
        return None
    auto = [t for t in complete if not analysis.by_hand(t)]
    sign = 1 if spec.direction == "maximize" else -1
    best_hand = max(hand, key=lambda t: sign * t.values[0])
    out: dict[str, Any] = {
        "metric": spec.metric,
        "direction": spec.direction,
        "max_epochs": spec.max_epochs,
        "hand": {
            "trial": best_hand.number,
            "value": best_hand.values[0],
            "rows": len(hand),
            "table": best_hand.user_attrs.get("hand_table"),
            "row": best_hand.user_attrs.get("hand_row"),
            "epochs": best_hand.user_attrs.get("epochs"),
        },
        "auto": None,
    }
    if auto:
        best_auto = max(auto, key=lambda t: sign * t.values[0])
        trained = [t for t in analysis.finished(study) if not analysis.by_hand(t)]
        out["auto"] = {
            "trial": best_auto.number,
            "value": best_auto.values[0],
            "trials": len(auto),
            "epochs": best_auto.user_attrs.get("epochs"),
            "epochs_trained": sum(int(t.user_attrs.get("epochs", 0)) for t in trained),
        }
    return out


def lines(record: dict[str, Any], lang: str) -> list[str]:
    """The section's sentences: each best with its epochs, the difference, and what the comparison rests on."""
    pct = record["metric"] == "val_accuracy"
    say = functools.partial(i18n.say, lang)
    hand, auto = record["hand"], record["auto"]
    epochs = say("epochs_unrecorded") if hand["epochs"] is None else hand["epochs"]
    out = [
        say(
            "hand_line",
            metric=record["metric"],
            value=analysis.format_metric(hand["value"], pct),
            where=say("hand_where", table=hand["table"], row=hand["row"]),
            trial=hand["trial"],
            n=hand["rows"],
            epochs=epochs,
        )
    ]
    if auto is None:
        return out + [say("auto_none")]
    out.append(
        say(
            "auto_line",
            metric=record["metric"],
            value=analysis.format_metric(auto["value"], pct),
            trial=auto["trial"],
            epochs=auto["epochs"],
            n=auto["trials"],
            trained=auto["epochs_trained"],
        )
    )
    gain = (auto["value"] - hand["value"]) * (1 if record["direction"] == "maximize" else -1)
    diff = (f"{abs(gain) * 100:.2f} " + ("pp" if lang == "en" else "个百分点")) if pct else f"{abs(gain):.4g}"
    out.append(say("hand_equal") if gain == 0 else say("hand_better" if gain > 0 else "hand_worse", diff=diff))
    return out + [say("hand_caveat", max_epochs=record["max_epochs"])]
