"""One factor at a time: vary one parameter over values, the others held at a trial's (the seed
reports' learning-rate, batch-size, hidden-units and epochs tables)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autotune.errors import ConfigError
from autotune.search.configs import apply_overrides, show
from autotune.spec.study import StudySpec
from autotune.storage.replays import Replay, ReplayStore, replay


def settings(
    spec: StudySpec, base: dict[str, Any], param: str, values: Sequence[Any]
) -> list[tuple[dict[str, Any], list[str], int | None]]:
    """(configuration, notes, epochs) for each value, every value checked before anything trains."""
    out = []
    for value in values:
        if param == "epochs":  # the training budget itself, as in the seed reports' epochs tables
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"«values»: epochs must be integers >= 1, got {value!r}")
            out.append((base, [], value))
        else:
            cfg, notes = apply_overrides(spec, base, {param: value}, source="--values")
            out.append((cfg, notes, None))
    return out


def sweep(
    spec: StudySpec,
    base: dict[str, Any],
    param: str,
    values: Sequence[Any],
    *,
    seeds: Sequence[int],
    splits: Any,
    epochs: int | None = None,
    store: ReplayStore | None = None,
    on_replay: Callable[[Replay], None] | None = None,
    precision: str = "fp32",
    step: str = "plain",
) -> list[Replay]:
    """One factor at a time: ``param`` set to each value, everything else held at ``base``; every run in
    ``precision`` and with the training ``step`` (the starting trial's)."""
    out = []
    for value, (cfg, notes, value_epochs) in zip(values, settings(spec, base, param, values)):
        rep = replay(
            spec,
            cfg,
            seeds=seeds,
            epochs=value_epochs or epochs,
            splits=splits,
            label=f"{param}={show(value)}",
            store=store,
            notes=notes,
            extra={"purpose": "sweep"},
            precision=precision,
            step=step,
        )
        out.append(rep)
        if on_replay is not None:
            on_replay(rep)
    return out
