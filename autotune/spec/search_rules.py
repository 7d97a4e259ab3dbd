"""How a spec's search proceeds: the ``sampler`` that proposes trials, the ``pruner`` that ends poor ones
early, and the ``stop`` rule that ends the search at the noise floor.

:func:`autotune.spec.study.parse_spec` calls the parsers; each raises a :class:`SpecError` that names the file,
the key, the bad value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autotune.spec.objectives import ObjectiveSpec
from autotune.spec.params import Checker

SAMPLER_KEYS = {
    "tpe": {"name", "n_startup_trials", "multivariate"},
    "random": {"name"},
    "nsga2": {"name", "population_size"},
}
PRUNER_KEYS = {
    "median": {"name", "n_startup_trials", "n_warmup_steps"},
    "successive_halving": {"name", "min_resource", "reduction_factor"},
    "hyperband": {"name", "min_resource", "reduction_factor"},
    "none": {"name"},
}


@dataclass(frozen=True)
class SamplerSpec:
    name: str = "tpe"
    n_startup_trials: int = 10
    multivariate: bool = False
    population_size: int = 50


@dataclass(frozen=True)
class PrunerSpec:
    name: str = "median"
    n_startup_trials: int = 5
    n_warmup_steps: int = 1
    min_resource: int = 1
    reduction_factor: int = 3


#: The stopping rules a spec's ``stop:`` block and ``run --stop`` take.
STOP_RULES = ("noise",)


@dataclass(frozen=True)
class StopSpec:
    """``stop: {rule: noise, patience: P, seeds: N}``: ``autotune run`` ends its search once P finished
    trials in a row have not beaten the best by more than the seed-to-seed spread measured on the best
    trial over N extra seeds (see :mod:`autotune.analysis.stopping`).

    The defaults: a patience of 20, twice TPE's usual 10 random start-up trials, so the rule never
    judges the random start alone, and a fifth of the 100-trial shipped MLP specs (a 20- or 30-trial
    spec needs a smaller one to save anything); 3 seeds, ``confirm``'s default, so a later
    ``autotune confirm`` reuses those runs, and the fewest that give the spread two degrees of freedom.
    """

    rule: str = "noise"
    patience: int = 20
    seeds: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "patience": self.patience, "seeds": self.seeds}


def _named(ctx: Checker, raw: Any, key: str, keys: dict[str, set[str]], default: str) -> tuple[dict, Checker, str]:
    """A ``{name: ..., ...}`` block (sampler, pruner): its mapping, a checker for its keys, and its name,
    with only that name's keys allowed."""
    raw = ctx.mapping(raw, key, set().union(*keys.values()))
    sub = Checker(ctx.source, f"{key}.")
    name = sub.choice(raw, "name", tuple(keys), default)
    ctx.mapping(raw, key, keys[name])
    return raw, sub, name


def parse_sampler(ctx: Checker, raw: Any) -> SamplerSpec:
    raw, sub, name = _named(ctx, raw, "sampler", SAMPLER_KEYS, "tpe")
    return SamplerSpec(
        name=name,
        n_startup_trials=sub.integer(raw, "n_startup_trials", 10, minimum=0),
        multivariate=sub.boolean(raw, "multivariate", False),
        population_size=sub.integer(raw, "population_size", 50, minimum=2),
    )


def parse_pruner(ctx: Checker, raw: Any) -> PrunerSpec:
    raw, sub, name = _named(ctx, raw, "pruner", PRUNER_KEYS, "median")
    return PrunerSpec(
        name=name,
        n_startup_trials=sub.integer(raw, "n_startup_trials", 5, minimum=0),
        n_warmup_steps=sub.integer(raw, "n_warmup_steps", 1, minimum=0),
        min_resource=sub.integer(raw, "min_resource", 1, minimum=1),
        reduction_factor=sub.integer(raw, "reduction_factor", 3, minimum=2),
    )


def parse_stop(ctx: Checker, raw: Any, *, objectives: tuple[ObjectiveSpec, ...]) -> StopSpec | None:
    """``stop: {rule: noise, patience: 20, seeds: 3}`` (every key optional); absent or null: no early stop."""
    if raw is None:
        return None
    raw = ctx.mapping(raw, "stop", {"rule", "patience", "seeds"})
    if len(objectives) > 1:
        raise ctx.error(
            "stop",
            f"the noise rule compares trials by one objective, and this spec has "
            f"{len(objectives)} ({', '.join(o.metric for o in objectives)}); remove 'stop'",
        )
    sub = Checker(ctx.source, "stop.")
    seeds = raw.get("seeds", StopSpec.seeds)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds < 2:
        raise sub.error("seeds", f"must be >= 2, got {seeds}: no spread can be measured with one seed")
    return StopSpec(
        rule=sub.choice(raw, "rule", STOP_RULES, "noise"),
        patience=sub.integer(raw, "patience", StopSpec.patience, minimum=1),
        seeds=sub.integer(raw, "seeds", StopSpec.seeds, minimum=2),
    )
