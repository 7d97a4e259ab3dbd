"""Hand tables into a study: each row with a result a COMPLETE trial carrying it, the others queued.

:func:`plan` reads and checks everything (tables, ``--map``, ``--base``, every value) before anything
touches a database; :func:`write` then adds the trials under the study's slot lock, skipping rows
imported before (user attribute ``hand_key``: a digest of the table's header and the row's cells).

A value the spec's space holds becomes an Optuna parameter with the spec's distribution; one it
does not hold (``batch_size`` 20 where the choices are 64…512) stays in the trial's user attribute
``config`` and is named in ``outside_space`` (see :func:`autotune.search.configs.fit` for why). A queued trial
is trained by ``autotune run`` from its parameters alone, so only rows whose whole configuration the
space holds are queued; the others are reported with the reason.

The plan and the import's record, as data, are :mod:`autotune.hand_tables.import_record`; :func:`lines` says the
record in words.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import optuna

from autotune.data.datasets import DATASETS
from autotune.errors import ConfigError, OptionError, TableError
from autotune.hand_tables import read as hand_tables
from autotune.hand_tables.import_record import Plan, PlannedRow, params_given, record
from autotune.hand_tables.read import HandRow
from autotune.search import configs
from autotune.spec.study import StudySpec

#: ``source`` user attribute: a row's recorded result (a COMPLETE trial), or a row queued to be trained.
RECORDED, QUEUED = "hand", "hand-queued"


def parse_maps(items: Any) -> dict[str, str]:
    """``--map`` as given: a mapping, or ``COLUMN=PARAM`` strings."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return {str(k): str(v) for k, v in items.items()}
    out = {}
    for item in items:
        column, sep, param = str(item).rpartition("=")
        if not sep or not column.strip() or not param.strip():
            raise OptionError(f"«maps» {item!r} is not COLUMN=PARAM (e.g. «maps» '隐藏层神经元=fc_units')")
        out[column.strip()] = param.strip()
    return out


def plan(
    spec: StudySpec, table: str, *, base: str | None = None, maps: Mapping[str, str] | None = None, rerun: bool = False
) -> Plan:
    """Read and check ``table`` for ``spec``: every row's configuration, where its values sit in the space,
    and what becomes of it. Touches no database."""
    maps = dict(maps or {})
    raw = hand_tables.read_tables(table)
    hand_tables.check_maps(maps, spec, raw)
    tables = tuple(hand_tables.read(t, spec, maps) for t in raw)
    if spec.multi_objective and not rerun:
        raise OptionError(
            f"spec '{spec.name}' has {len(spec.objectives)} objectives ({', '.join(spec.metrics)}); "
            "a hand table records one result, so its rows cannot be complete trials: use --rerun"
        )
    base_config, from_base = _base(spec, base)
    searched = fit_names(spec)
    rows = []
    for hand in tables:
        seen: Counter[str] = Counter()
        for row in hand.rows:
            config = _configuration(spec, base_config, row)
            fit = configs.fit(spec, config)
            value = None if rerun else row.figures.get(spec.metric)
            stated = params_given(spec, row) | set(from_base)
            sampled = tuple(o.name for o in fit.outside if o.name not in stated and o.name in searched)
            blocking = [o for o in fit.outside if o.name not in sampled]
            action = "complete" if value is not None else "queued" if not blocking else "not queued"
            digest = _digest(row, seen)
            rows.append(
                PlannedRow(
                    row,
                    config,
                    fit,
                    value,
                    action,
                    ("record:" if action == "complete" else "queue:") + digest,
                    sampled if action == "queued" else (),
                    tuple(sorted(stated)),
                )
            )
    return Plan(spec, tables, tuple(rows), base, base_config, from_base, rerun)


def fit_names(spec: StudySpec) -> set[str]:
    """The parameters the sampler can choose for a queued trial: the searched ones (a per-layer list's
    entries are its depth's and widths' parameters)."""
    return {p.name for p in spec.space} | ({spec.per_layer} if spec.per_layer else set())


def _base(spec: StudySpec, base: str | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    if base is None:
        return configs.default_config(spec), ()
    mapping = configs.read_config_mapping(base)
    config = configs.config_from_mapping(spec, mapping, source=base)
    per_layer = spec.per_layer or "\0"
    names = {per_layer if str(k).startswith(f"{per_layer}_l") else str(k) for k in mapping}
    return config, tuple(n for n in config if n in names)


def _configuration(spec: StudySpec, base: dict[str, Any], row: HandRow) -> dict[str, Any]:
    """The base configuration with the row's values, each checked (an error names the row and the column)."""
    per_layer = spec.per_layer or "\0"
    order = sorted(row.params, key=lambda k: (k == per_layer, k.startswith(f"{per_layer}_l")))
    config = base
    for name in order:
        value, header = row.params[name]
        try:
            config, _ = configs.apply_overrides(spec, config, {name: value}, source=f"{row.where}, column '{header}'")
        except ConfigError as exc:
            raise TableError(*exc.args) from None
    return config


def _digest(row: HandRow, seen: Counter[str]) -> str:
    cells = json.dumps([list(row.header), [row.cells.get(h, "") for h in row.header]], ensure_ascii=False)
    seen[cells] += 1  # the same cells twice in one table: two rows (a repeated experiment)
    return hashlib.sha256(f"{cells}#{seen[cells]}".encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Writing


def content(config: dict[str, Any], value: float | None) -> str:
    """What makes two imported rows the same experiment, whatever file or format they came from: the whole
    configuration and the recorded result (None for a queued row)."""
    return hashlib.sha256(json.dumps([config, value], sort_keys=True, default=str).encode()).hexdigest()[:16]


def _stored_content(trial: optuna.trial.FrozenTrial) -> str | None:
    """An imported trial's :func:`content` (recomputed for trials imported before it was recorded)."""
    attrs = trial.user_attrs
    if attrs.get("hand_content"):
        return attrs["hand_content"]
    if attrs.get("source") == RECORDED and isinstance(attrs.get("config"), dict) and trial.values:
        return content(attrs["config"], trial.values[0])
    return None


def write(plan: Plan, study: optuna.Study, *, keep_duplicates: bool = False) -> dict[str, Any]:
    """Add the planned trials that are not in ``study`` yet; returns the import's record (see :func:`record`).

    A row is in the study already when a trial carries its ``hand_key`` (the same file's same row), or, unless
    ``keep_duplicates``, when an imported trial holds the same configuration and result (:func:`content`: the
    same table in another file or format). A table that repeats one experiment keeps each repetition: only as
    many rows match as the study holds trials of that content."""
    trials = study.get_trials(deepcopy=False)
    present = {t.user_attrs.get("hand_key") for t in trials}
    holders: dict[str, list[int]] = defaultdict(list)  # content -> the trials imported before that hold it
    for t in trials:
        kept = _stored_content(t)
        if kept is not None:
            holders[kept].append(t.number)
    stored = Counter({c: len(numbers) for c, numbers in holders.items()})
    same: dict[str, str] = {}  # a row's key -> its content, where an earlier import holds that content
    fresh = []
    for p in plan.rows:
        if p.action == "not queued" or p.key in present:
            continue
        key = content(p.config, p.value)
        if not keep_duplicates and stored[key] > 0:
            stored[key] -= 1
            same[p.key] = key
            continue
        fresh.append(p)
    complete = [_complete_trial(plan.spec, p) for p in fresh if p.action == "complete"]
    if complete:
        study.add_trials(complete)
    for p in fresh:
        if p.action == "queued":
            study.enqueue_trial(p.fit.params, user_attrs=_queued_attrs(p))
    numbers = {t.user_attrs.get("hand_key"): t.number for t in study.get_trials(deepcopy=False)}
    done = {p.key for p in fresh}
    return record(
        plan,
        study,
        numbers=numbers,
        already={p.key for p in plan.rows if p.key in present} - done,
        duplicates={k: holders[c] for k, c in same.items()},
    )


def _common_attrs(p: PlannedRow) -> dict[str, Any]:
    row = p.row
    attrs: dict[str, Any] = {
        "hand_table": row.table,
        "hand_row": int(row.label) if row.label.isdigit() else row.label,
        "hand_line": row.line,
        "hand_key": p.key,
        "hand_cells": row.cells,
        "hand_content": content(p.config, p.value),
    }
    if row.schedule_as_written is not None:
        attrs["lr_schedule_as_written"] = row.schedule_as_written
    return attrs


def _complete_trial(spec: StudySpec, p: PlannedRow) -> optuna.trial.FrozenTrial:
    attrs = {
        "source": RECORDED,
        **_common_attrs(p),
        "remark": p.row.remark,
        **p.row.figures,
        "config": p.config,
        "outside_space": [str(o) for o in p.fit.outside],
        "hand_stated": list(p.stated),
    }
    structure = _structure(spec, p.config)
    if structure:
        attrs["structure"] = structure
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE,
        value=p.value,
        params=p.fit.params,
        distributions=p.fit.distributions,
        user_attrs=attrs,
    )


def _queued_attrs(p: PlannedRow) -> dict[str, Any]:
    # the trial's own figures and remark will be autotune's: the hand's are kept apart
    recorded = {"remark": p.row.remark, **p.row.figures} if p.row.remark or p.row.figures else {}
    return {"source": QUEUED, **_common_attrs(p), **({"hand_record": recorded} if recorded else {})}


def _structure(spec: StudySpec, config: dict[str, Any]) -> str | None:
    # imported here, not at the top: keeps torch off the import of this module
    from autotune.training.models import describe_structure

    info = DATASETS.get(spec.dataset_name) if isinstance(spec.dataset, str) else None
    if info is None or spec.family == "custom":
        return None
    return describe_structure(spec.model, input_shape=info.shape, n_outputs=info.n_outputs, config=config)


# --------------------------------------------------------------------------------------
# What the import did, in words (every sentence from the record)


def lines(rec: dict[str, Any]) -> list[str]:
    pct = rec["metric"] == "val_accuracy"

    def value(v: float) -> str:
        return f"{v * 100:.2f}%" if pct else f"{v:.4g}"

    tables = rec["tables"]
    read = sum(t["rows"] for t in tables)
    empty = sum(t["empty_rows"] for t in tables)
    trials = [r["trial"] for r in rec["rows"] if r["action"] == "complete" and r["trial"] is not None]
    queued = [r["trial"] for r in rec["rows"] if r["action"] == "queued" and r["trial"] is not None]
    counts = [
        f"{rec['added']} complete trial(s) added" + (f" ({span('trials', trials)})" if trials else ""),
        f"{rec['queued']} queued for `autotune run`" + (f" ({span('trials', queued)})" if queued else ""),
    ]
    if rec["not_queued"]:
        counts.append(f"{rec['not_queued']} not queued")
    if rec["already_imported"]:
        counts.append(f"{rec['already_imported']} already in the study (imported before; not added again)")
    if rec.get("same_as_imported"):
        counts.append(f"{rec['same_as_imported']} the same as trials imported before (not added again)")
    out = [
        f"Study '{rec['study']}': {read} row(s) read from {', '.join(t['table'] for t in tables)}"
        + (f" ({empty} empty row(s) skipped)" if empty else "")
        + ": "
        + "; ".join(counts)
        + "."
    ]
    given = rec["from_table"]
    if len(given) == 1:
        out.append("From the table: " + (", ".join(next(iter(given.values()))) or "no parameter") + ".")
    else:
        out.append(
            "From the tables: " + "; ".join(f"{t}: {', '.join(v) or 'no parameter'}" for t, v in given.items()) + "."
        )
    filled = []
    if rec["from_base"]:
        filled.append(f"from --base {rec['base']}: " + _pairs(rec["from_base"]))
    if rec["from_defaults"]:
        filled.append("from the spec's defaults: " + _pairs(rec["from_defaults"]))
    if filled:
        out.append("Where a table gives no value: " + "; ".join(filled) + ".")
    if rec["outside_space"]:
        out.append(
            f"Outside the space of spec '{rec['spec']}' (kept in each trial's user attribute 'config', not "
            "given to Optuna as a parameter):"
        )
        out += [
            f"  {o['param']} {_values(o['values'])} ({o['allowed']}): {len(o['rows'])} trial(s), "
            f"{span('rows', o['rows'])}"
            for o in rec["outside_space"]
        ]
    for s in rec["schedules"]:
        out.append(
            f"lr_schedule=step stands for the schedule written '{s['as_written']}' (start；step；factor) in "
            f"{span('rows', s['rows'])}; autotune's step schedule multiplies the learning rate by 0.1 at each "
            "third of the epochs, so a replay or a rerun of these rows trains that schedule, not the table's."
        )
    for s in rec.get("sampled", []):
        out.append(
            f"{s['param']}: no table value and the default ({configs.show(s['default'])}) is outside the space; "
            f"the sampler picks it for the {len(s['rows'])} queued row(s) ({span('rows', s['rows'])})."
        )
    if rec["not_queued_because"]:
        out.append(f"Not queued ({rec['not_queued']} row(s); a queued trial can take only values the space holds):")
        out += [
            f"  {r['param']} {_values(r['values'])} ({r['allowed']}): {len(r['rows'])} row(s), "
            f"{span('rows', r['rows'])}"
            for r in rec["not_queued_because"]
        ]
    same = [r for r in rec["rows"] if r["action"] == "same as imported"]
    if same:
        holders = sorted({n for r in same for n in r["same_as"]})
        out.append(
            f"Warning: {len(same)} row(s) ({span('rows', [r['row'] for r in same])}) hold the same "
            f"configuration and result as {span('trials', holders)}, imported before (from any file or "
            "format): not added, so no experiment counts twice; --keep-duplicates adds them anyway."
        )
    best = rec["best"]
    if best is not None:
        where = f"{best['table']} row {best['row']}" if len(tables) > 1 else f"row {best['row']}"
        trial = f", trial {best['trial']}" if best["trial"] is not None else ""
        out.append(f"Best recorded {rec['metric']}: {value(best['value'])} ({where}{trial}).")
    return out


def span(noun: str, items: list[Any]) -> str:
    """``trials 0-19``, ``rows 2, 3, 6-8``: runs of consecutive numbers joined; other labels listed."""
    if not items or not all(str(i).isdigit() for i in items):
        return f"{noun} " + ", ".join(str(i) for i in items)
    numbers = sorted({int(i) for i in items})
    runs, start = [], numbers[0]
    for a, b in zip(numbers, numbers[1:] + [None]):
        if b != a + 1:
            runs.append(f"{start}-{a}" if a > start else str(a))
            start = b
    return f"{noun} " + ", ".join(runs)


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={configs.show(v)}" for k, v in values.items())


def _values(values: list[Any]) -> str:
    return ", ".join(configs.show(v) for v in values)
