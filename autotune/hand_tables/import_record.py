"""An import of hand tables as data: its plan, row by row (:class:`PlannedRow`: the row's configuration, where its
values sit in the space, what becomes of it), and its :func:`record`, what the import did and why, from which
:func:`autotune.hand_tables.into_study.lines` writes every sentence. :mod:`autotune.hand_tables.into_study` makes
the plan and writes the trials.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import optuna

from autotune.hand_tables.read import HandRow, HandTable
from autotune.search import configs
from autotune.spec.study import StudySpec


@dataclass(frozen=True)
class PlannedRow:
    row: HandRow
    config: dict[str, Any]
    fit: configs.SpaceFit
    value: float | None  # the recorded result in the spec's metric (None: not recorded)
    action: str  # "complete" | "queued" | "not queued"
    key: str
    #: A queued row's parameters that neither the row nor --base gives and whose default lies outside the
    #: space: the sampler picks them (the row is enqueued without them) rather than the row being refused.
    sampled: tuple[str, ...] = ()
    #: The parameters the row (or --base) gives; the others are the spec's defaults (warm start's rule too).
    stated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    spec: StudySpec
    tables: tuple[HandTable, ...]
    rows: tuple[PlannedRow, ...]
    base: str | None
    base_config: dict[str, Any]  # the --base file's configuration, else the spec's defaults
    from_base: tuple[str, ...]  # parameters the --base file gives
    rerun: bool


def record(
    plan: Plan,
    study: optuna.Study,
    *,
    numbers: dict[Any, int],
    already: set[str],
    duplicates: dict[str, list[int]] | None = None,
) -> dict[str, Any]:
    spec, several = plan.spec, len(plan.tables) > 1
    duplicates = duplicates or {}
    rows = []
    for p in plan.rows:
        action = "already imported" if p.key in already else "same as imported" if p.key in duplicates else p.action
        rows.append(
            {
                "table": p.row.table,
                "row": p.row.label,
                "line": p.row.line,
                "action": action,
                "trial": numbers.get(p.key) if p.action != "not queued" else None,
                "value": p.value,
                "same_as": duplicates.get(p.key, []),
                "outside": [str(o) for o in p.fit.outside if o.name not in p.sampled],
                "sampled": list(p.sampled),
                "reason": str(_blocking(p)[0]) if p.action == "not queued" else None,
            }
        )
    given = {
        h.label: [n for n in spec.parameters if any(n in params_given(spec, r) for r in h.rows)] for h in plan.tables
    }
    everywhere = set.intersection(*(set(v) for v in given.values()))
    filled = [n for n in spec.parameters if n not in everywhere]
    base = plan.base_config
    complete = [p for p in plan.rows if p.action == "complete"]
    best = _best(spec, complete, numbers)
    return {
        "study": study.study_name,
        "spec": spec.name,
        "metric": spec.metric,
        "rerun": plan.rerun,
        "tables": [
            {
                "table": h.label,
                "rows": len(h.rows),
                "empty_rows": h.empty_rows,
                "columns": {c.header: c.field for c in h.columns},
            }
            for h in plan.tables
        ],
        "rows": rows,
        "added": sum(r["action"] == "complete" for r in rows),
        "queued": sum(r["action"] == "queued" for r in rows),
        "not_queued": sum(r["action"] == "not queued" for r in rows),
        "already_imported": sum(r["action"] == "already imported" for r in rows),
        "same_as_imported": sum(r["action"] == "same as imported" for r in rows),
        "from_table": given,
        "base": plan.base,
        "from_base": {n: base[n] for n in filled if n in plan.from_base},
        "from_defaults": {n: base[n] for n in filled if n not in plan.from_base},
        "outside_space": _outside(complete, several),
        "not_queued_because": _reasons([p for p in plan.rows if p.action == "not queued"], several),
        "sampled": _sampled([p for p in plan.rows if p.sampled], several, base),
        "schedules": _schedules(plan.rows, several),
        "best": best,
    }


def params_given(spec: StudySpec, row: HandRow) -> set[str]:
    """The parameters a row sets: a per-layer list sets the depth too, a per-layer key (units_l1) its width."""
    per_layer = spec.per_layer or "\0"
    names = {per_layer if k.startswith(f"{per_layer}_l") else k for k in row.params}
    if isinstance(row.params.get(per_layer, (None,))[0], list):
        names.add("n_layers")
    return names


def _ref(row: HandRow, several: bool) -> str:
    return f"{row.table} row {row.label}" if several else row.label


def _outside(rows: list[PlannedRow], several: bool) -> list[dict[str, Any]]:
    by: dict[tuple[str, str], list[tuple[Any, str]]] = defaultdict(list)
    for p in rows:
        for o in p.fit.outside:
            by[(o.name, o.allowed)].append((o.value, _ref(p.row, several)))
    return [
        {"param": name, "allowed": allowed, "values": _distinct([v for v, _ in hits]), "rows": [r for _, r in hits]}
        for (name, allowed), hits in by.items()
    ]


def _blocking(p: PlannedRow) -> list[configs.Outside]:
    """The values that keep ``p`` out of the queue: outside the space and stated by the row or --base."""
    return [o for o in p.fit.outside if o.name not in p.sampled]


def _sampled(rows: list[PlannedRow], several: bool, base: dict[str, Any]) -> list[dict[str, Any]]:
    by: dict[str, list[str]] = defaultdict(list)
    for p in rows:
        for name in p.sampled:
            by[name].append(_ref(p.row, several))
    return [{"param": name, "default": base.get(name), "rows": refs} for name, refs in by.items()]


def _reasons(rows: list[PlannedRow], several: bool) -> list[dict[str, Any]]:
    by: dict[tuple[str, str], list[tuple[Any, str]]] = defaultdict(list)
    for p in rows:
        first = _blocking(p)[0]  # the first stated value outside the space, in the spec's parameter order
        by[(first.name, first.allowed)].append((first.value, _ref(p.row, several)))
    return [
        {"param": name, "allowed": allowed, "values": _distinct([v for v, _ in hits]), "rows": [r for _, r in hits]}
        for (name, allowed), hits in by.items()
    ]


def _schedules(rows: tuple[PlannedRow, ...], several: bool) -> list[dict[str, Any]]:
    by: dict[str, list[str]] = defaultdict(list)
    for p in rows:
        if p.row.schedule_as_written is not None:
            by[p.row.schedule_as_written].append(_ref(p.row, several))
    return [{"as_written": text, "lr_schedule": "step", "rows": refs} for text, refs in by.items()]


def _best(spec: StudySpec, rows: list[PlannedRow], numbers: dict[Any, int]) -> dict[str, Any] | None:
    if not rows:
        return None
    sign = 1 if spec.direction == "maximize" else -1
    p = max(rows, key=lambda r: sign * r.value)  # type: ignore[operator]
    return {"table": p.row.table, "row": p.row.label, "trial": numbers.get(p.key), "value": p.value}


def _distinct(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out
