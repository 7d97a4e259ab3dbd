"""How a training step is computed: ``plain`` (separate kernels, as every study stored before had) or ``fused``.

``fused`` runs the optimiser as one fused kernel over all parameters (``fused=True`` for SGD, Adam and AdamW) and
builds the augmentation's sampling grid by broadcasting instead of a batched matrix product. It learns the same
thing from the same random draws (same initialisation, data order, dropout masks and augmentation angles), but its
floating-point sums are taken in another order, so its numbers differ in the last bits from a ``plain`` run. Each
trial therefore records the step it trained with (user attribute ``step``), and replays, confirmations, ablations,
sweeps and exports train with the recorded one: a trial replays bit-exactly in its own step. Trials stored before
steps existed trained ``plain``. Whether ``fused`` is the default is decided by the rule in BENCHMARKS.md
("The training step").
"""

from __future__ import annotations

from typing import Any

from autotune.errors import OptionError

STEPS = ("plain", "fused")
CHOICES = ", ".join(STEPS)
#: What a spec or a command gets without saying; stored trials without a ``step`` attribute trained this way.
DEFAULT = "plain"


def check_step(name: Any) -> str:
    """``name`` if it is a step, else an error that names it and the allowed ones."""
    if name not in STEPS:
        raise OptionError(f"«step» {name!r} is not a training step; allowed: {CHOICES}")
    return name


def recorded_step(attrs: dict[str, Any]) -> str:
    """The step a stored trial trained with: its ``step`` attribute; ``plain`` for trials stored before there was
    one."""
    value = attrs.get("step", DEFAULT)
    return value if value in STEPS else DEFAULT
