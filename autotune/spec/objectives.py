"""What a spec optimises: its objectives (``metric``/``direction``, or ``objectives``) and its ``constraints``.

:func:`autotune.spec.study.parse_spec` calls the parsers; each raises a :class:`SpecError` that names the file,
the key, the bad value and what is allowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from autotune.spec.params import ALL_METRICS, COST_METRICS, METRICS, Checker, format_number, show_value

CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*(\S+)\s*$")


@dataclass(frozen=True)
class ObjectiveSpec:
    """One thing a study optimises: a metric and its direction."""

    metric: str
    direction: str


@dataclass(frozen=True)
class ConstraintSpec:
    """``metric <= bound`` or ``metric >= bound``; Optuna treats a violation <= 0 as feasible."""

    metric: str
    op: str  # "<=" | ">="
    bound: float

    def violation(self, value: float) -> float:
        """How far ``value`` is beyond the bound (<= 0: satisfied), as Optuna's constraints want it."""
        return value - self.bound if self.op == "<=" else self.bound - value

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {format_number(self.bound)}"


def parse_objectives(ctx: Checker, data: dict, *, dataset: str, classification: bool) -> tuple[ObjectiveSpec, ...]:
    """``metric``/``direction`` (one objective) or ``objectives`` (a list; the first is a validation metric)."""

    def check(key: str, metric: str) -> None:
        if metric == "val_accuracy" and not classification:
            raise ctx.error(
                key, f"'val_accuracy' needs a classification dataset; '{dataset}' is regression (use 'val_loss')"
            )

    def direction_of(sub: Checker, raw: dict, metric: str) -> str:
        natural = ALL_METRICS[metric]
        direction = sub.choice(raw, "direction", ("maximize", "minimize"), natural)
        if metric in METRICS and direction != natural:
            raise sub.error("direction", f"'{metric}' must be {natural}d, got {direction!r}")
        return direction

    if "objectives" not in data:
        metric = ctx.choice(data, "metric", tuple(METRICS), "val_accuracy" if classification else "val_loss")
        check("metric", metric)
        return (ObjectiveSpec(metric, direction_of(ctx, data, metric)),)
    clash = [k for k in ("metric", "direction") if k in data]
    if clash:
        raise ctx.error(clash[0], "give either 'metric'/'direction' (one objective) or 'objectives', not both")
    raw = data["objectives"]
    if not isinstance(raw, list) or not raw:
        raise ctx.error(
            "objectives",
            "must be a non-empty list of metrics, e.g. [val_accuracy, train_seconds] "
            f"or [{{metric: val_accuracy, direction: maximize}}, ...]; got {show_value(raw)}",
        )
    out: list[ObjectiveSpec] = []
    for i, item in enumerate(raw):
        key = f"objectives[{i}]"
        sub = Checker(ctx.source, f"{key}.")
        item = {"metric": item} if isinstance(item, str) else ctx.mapping(item, key, {"metric", "direction"})
        if "metric" not in item:
            raise sub.error("metric", "is required")
        allowed = tuple(METRICS) if i == 0 else tuple(ALL_METRICS)
        if i == 0 and item["metric"] in COST_METRICS:
            raise sub.error(
                "metric",
                f"the first objective is the validation metric that trials report per "
                f"epoch ({', '.join(METRICS)}); put {item['metric']!r} after it",
            )
        metric = sub.choice(item, "metric", allowed, None)
        check(f"{key}.metric", metric)
        if metric in (o.metric for o in out):
            raise sub.error("metric", f"{metric!r} is listed twice")
        out.append(ObjectiveSpec(metric, direction_of(sub, item, metric)))
    return tuple(out)


def parse_constraints(ctx: Checker, raw: Any, *, classification: bool) -> tuple[ConstraintSpec, ...]:
    """``["params <= 200000", "latency_ms <= 1.0"]``: each a metric, <= or >=, and a finite number."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.error("constraints", f"must be a list like ['params <= 200000'], got {show_value(raw)}")
    out: list[ConstraintSpec] = []
    for i, item in enumerate(raw):
        key = f"constraints[{i}]"
        match = CONSTRAINT_RE.match(item) if isinstance(item, str) else None
        if match is None:
            raise ctx.error(key, f"must read 'METRIC <= NUMBER' or 'METRIC >= NUMBER', got {show_value(item)}")
        metric, op, text = match.groups()
        if metric not in ALL_METRICS:
            raise ctx.error(key, f"unknown metric {metric!r}; allowed: {', '.join(ALL_METRICS)}")
        if metric == "val_accuracy" and not classification:
            raise ctx.error(key, "'val_accuracy' needs a classification dataset")
        try:
            bound = float(text)
        except ValueError:
            bound = math.nan
        if not math.isfinite(bound):
            raise ctx.error(key, f"the bound must be a finite number, got {text!r}")
        out.append(ConstraintSpec(metric, op, bound))
    return tuple(out)
