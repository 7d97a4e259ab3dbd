"""What follows a spec's search: ``confirm`` (its top trials re-trained over seeds) and ``final`` (the exported
model's training budget, when it differs from a trial's).

:func:`autotune.spec.study.parse_spec` calls the parsers; each raises a :class:`SpecError` that names the file,
the key, the bad value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autotune.spec.objectives import ObjectiveSpec
from autotune.spec.params import Checker, show_value


@dataclass(frozen=True)
class FinalSpec:
    """The exported model's training budget, when it differs from a trial's (``final:`` in the spec).

    Search cheaply (few epochs, a training subset), then train the chosen configuration once at
    full fidelity: ``max_epochs`` None keeps the trials' epochs; ``train_subset`` None keeps their
    subset, ``"all"`` uses the whole training split, a number that many examples.
    """

    max_epochs: int | None = None
    train_subset: int | str | None = None

    RULE = "must be 'all' or a count >= 1"  # for train_subset, here and on the command line

    @staticmethod
    def valid_subset(value: Any) -> bool:
        """``value`` is ``"all"`` or a whole count >= 1 (what ``final.train_subset`` and ``--train-subset`` take)."""
        return value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in (("max_epochs", self.max_epochs), ("train_subset", self.train_subset)) if v is not None
        }


@dataclass(frozen=True)
class ConfirmSpec:
    """``confirm: {top, seeds}``: after its search, ``autotune run`` re-trains the ``top`` best trials over
    ``seeds`` shared seeds and ranks them by mean (as ``autotune confirm`` does)."""

    top: int = 5
    seeds: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {"top": self.top, "seeds": self.seeds}


def parse_final(ctx: Checker, raw: Any) -> FinalSpec:
    raw = ctx.mapping(raw, "final", {"max_epochs", "train_subset"})
    sub = Checker(ctx.source, "final.")
    epochs = None if raw.get("max_epochs") is None else sub.integer(raw, "max_epochs", None, minimum=1, maximum=10000)
    subset = raw.get("train_subset")
    if subset is not None and not FinalSpec.valid_subset(subset):
        raise sub.error("train_subset", f"{FinalSpec.RULE}, got {show_value(subset)}")
    return FinalSpec(max_epochs=epochs, train_subset=subset)


def parse_confirm(ctx: Checker, raw: Any, *, objectives: tuple[ObjectiveSpec, ...]) -> ConfirmSpec | None:
    """``confirm: {top: 5, seeds: 3}`` (both optional); absent or null: no confirmation after the search."""
    if raw is None:
        return None
    raw = ctx.mapping(raw, "confirm", {"top", "seeds"})
    if len(objectives) > 1:
        raise ctx.error(
            "confirm",
            f"ranks trials by one objective, and this spec has {len(objectives)} "
            f"({', '.join(o.metric for o in objectives)}); remove 'confirm'",
        )
    sub = Checker(ctx.source, "confirm.")
    seeds = raw.get("seeds", 3)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds < 2:
        raise sub.error("seeds", f"must be >= 2, got {seeds}: no spread can be measured with one seed")
    return ConfirmSpec(top=sub.integer(raw, "top", 5, minimum=1), seeds=sub.integer(raw, "seeds", 3, minimum=2))
