"""Ablation: the best configuration against a baseline, leave-one-out and a greedy ablation path.

Every row is one configuration replayed over the same seeds (:mod:`autotune.storage.replays`), with its
change against the best configuration, its share of the total gain and a paired test across
seeds; :func:`autotune.reporting.factor_files.ablation_outputs` writes the table, the data and the chart.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autotune.analysis.stats import MIN_SEEDS_FOR_P, paired_p_value
from autotune.search.configs import components, show, with_component
from autotune.spec.study import StudySpec
from autotune.storage.replays import Replay, ReplayStore, replay
from autotune.words import i18n


@dataclass
class AblationRow:
    kind: str  # "best" | "baseline" | "leave-one-out" | "path"
    component: str
    configuration: str
    replay: Replay
    delta: float | None = None  # metric minus the best configuration's, in the metric's units
    share: float | None = None  # share of the total gain (baseline → best)
    p_value: float | None = None
    #: What this row changes, from and to (``0.008469 → 0.01``): a leave-one-out row reverts the component from the
    #: best's value to the baseline's, a path row takes it from the baseline's to the best's; "" for best/baseline.
    change: str = ""


def _improvement(spec: StudySpec, a: float, b: float) -> float:
    """How much better ``a`` is than ``b`` for the spec's direction."""
    return a - b if spec.direction == "maximize" else b - a


def _score(spec: StudySpec, value: float | None) -> float:
    """Larger is better, whatever the direction; a missing value is the worst."""
    if value is None or math.isnan(value):
        return -math.inf
    return value if spec.direction == "maximize" else -value


def ablate(
    spec: StudySpec,
    best: dict[str, Any],
    baseline: dict[str, Any],
    *,
    seeds: Sequence[int],
    splits: Any,
    epochs: int | None = None,
    store: ReplayStore | None = None,
    describe: Callable[[dict], str] = str,
    on_row: Callable[[AblationRow], None] | None = None,
    precision: str = "fp32",
    step: str = "plain",
    value: Callable[[str, dict], str] | None = None,
) -> list[AblationRow]:
    """Leave-one-out (revert one component of the best to the baseline) and a greedy ablation path, every
    run in ``precision`` and with the training ``step`` (the best trial's). ``value(component, config)`` shows a
    component's value in a row's change (default: the config's value of that name)."""
    value = value or (lambda comp, cfg: show(cfg[comp]))
    metric = spec.metric

    def run(cfg: dict[str, Any], label: str) -> Replay:
        return replay(
            spec,
            cfg,
            seeds=seeds,
            epochs=epochs,
            splits=splits,
            label=label,
            store=store,
            extra={"purpose": "ablation"},
            precision=precision,
            step=step,
        )

    rows: list[AblationRow] = []

    def add(row: AblationRow) -> None:
        rows.append(row)
        if on_row is not None:
            on_row(row)

    best_run = run(best, "best")
    base_run = run(baseline, "baseline")
    best_m, base_m = best_run.mean(metric), base_run.mean(metric)
    total_gain = _improvement(spec, best_m, base_m) if best_m is not None and base_m is not None else None

    def finish(
        kind: str, comp: str, cfg: dict[str, Any], rep: Replay, gain_from_base: bool, moved: str = ""
    ) -> AblationRow:
        m = rep.mean(metric)
        delta = None if m is None or best_m is None else m - best_m
        share = None
        if total_gain and m is not None:
            share = (_improvement(spec, m, base_m) if gain_from_base else _improvement(spec, best_m, m)) / total_gain
        p = paired_p_value(rep.values(metric), best_run.values(metric))
        return AblationRow(kind, comp, describe(cfg), rep, delta, share, p, moved)

    add(AblationRow("best", "best", describe(best), best_run, 0.0, 1.0 if total_gain else None, None))
    add(finish("baseline", "baseline", baseline, base_run, gain_from_base=True))
    diff = components(spec, best, baseline)
    for comp in diff:
        cfg = with_component(spec, best, baseline, comp)
        add(
            finish(
                "leave-one-out",
                comp,
                cfg,
                run(cfg, f"best without {comp}"),
                gain_from_base=False,
                moved=f"{value(comp, best)} → {value(comp, baseline)}",
            )
        )
    current, remaining = dict(baseline), list(diff)
    while remaining:
        tried = []
        for comp in remaining:
            cfg = with_component(spec, current, best, comp)
            tried.append((comp, cfg, run(cfg, f"path + {comp}")))
        comp, cfg, rep = max(tried, key=lambda t: _score(spec, t[2].mean(metric)))
        add(finish("path", comp, cfg, rep, gain_from_base=True, moved=f"{value(comp, baseline)} → {value(comp, best)}"))
        current, remaining = cfg, [c for c in remaining if c != comp]
    return rows


class ProgressLines:
    """``autotune ablate``'s progress: one line per configuration as its seeds finish, e.g.
    ``best configuration: done (3 seeds)`` or ``ablation path, baseline + lr: done (3 seeds)``."""

    def __init__(self) -> None:
        self.path: list[str] = []  # the components the ablation path has added to the baseline so far

    def __call__(self, row: AblationRow) -> str:
        if row.kind == "path":
            self.path.append(row.component)
        name = {
            "best": "best configuration",
            "baseline": "baseline",
            "leave-one-out": f"best without {row.component}",
            "path": "ablation path, baseline + " + " + ".join(self.path),
        }[row.kind]
        runs = row.replay.runs
        reused = sum(r.reused for r in runs)
        seeds = f"{len(runs)} seed{'' if len(runs) == 1 else 's'}"
        if reused:
            seeds += f", {'all' if reused == len(runs) else reused} reused from earlier runs"
        return f"  {name}: done ({seeds})"


#: The study's user attribute that keeps its latest ablation table, one per language (``ablation:en``,
#: ``ablation:zh``): the cells as written, so that a report in that language includes exactly that table
RECORD_PREFIX = "ablation:"


def record(study: Any, table: dict[str, Any], lang: str) -> None:
    """Keep ``table`` (caption, heads, body, key, verdict) in ``study`` for its reports in ``lang``."""
    study.set_user_attr(RECORD_PREFIX + lang, table)


def stored(study: Any) -> dict[str, dict[str, Any]]:
    """The ablation tables kept in ``study``, by language."""
    return {
        key[len(RECORD_PREFIX) :]: value
        for key, value in study.user_attrs.items()
        if key.startswith(RECORD_PREFIX) and isinstance(value, dict)
    }


def measurable(spec: StudySpec, rows: list[AblationRow], row: AblationRow) -> bool:
    """Whether ``row`` differs from the best configuration by more than one seed standard deviation of the
    best and, where a paired test ran (3 seeds or more), with p <= 0.05."""
    spread = rows[0].replay.std(spec.metric) or 0.0
    if row.delta is None or abs(row.delta) <= max(spread, 1e-12):
        return False
    return row.p_value is None or row.p_value <= 0.05


def ablation_verdict(spec: StudySpec, rows: list[AblationRow], *, lang: str = "en") -> list[str]:
    """What the ablation shows, each claim with its support; a component is either critical, harmful,
    or without measurable difference, never two of them (the rule is :func:`measurable`)."""

    say = functools.partial(i18n.say, lang)
    loo = [r for r in rows if r.kind == "leave-one-out" and r.delta is not None]
    if not loo:
        return [say("abl_nothing")]
    n = len(rows[0].replay.runs)
    if n < 2:
        return [say("abl_one_seed", min=MIN_SEEDS_FOR_P)]
    pct, metric = spec.metric == "val_accuracy", spec.metric
    change = (lambda d: f"{d * 100:+.2f} {i18n.points(lang)}") if pct else (lambda d: f"{d:+.4g}")

    def p_text(r: AblationRow) -> str:
        return "" if r.p_value is None else say("abl_p", p=f"{r.p_value:.3g}")

    lines = []
    if n < MIN_SEEDS_FOR_P:
        lines.append(say("abl_no_test", n=n, min=MIN_SEEDS_FOR_P))
    hurts = [
        r
        for r in loo
        if measurable(spec, rows, r) and _score(spec, r.replay.mean(metric)) < _score(spec, rows[0].replay.mean(metric))
    ]
    helps = [r for r in loo if measurable(spec, rows, r) and r not in hurts]
    null = [r.component for r in loo if not measurable(spec, rows, r)]
    if hurts:
        worst = min(hurts, key=lambda r: _score(spec, r.replay.mean(metric)))
        lines.append(
            say(
                "abl_critical",
                component=worst.component,
                metric=metric,
                change=change(worst.delta),
                n=n,
                p=p_text(worst),
            )
        )
        others = [r for r in sorted(hurts, key=lambda r: _score(spec, r.replay.mean(metric))) if r is not worst]
        if others:
            lines.append(
                say("abl_also", items=say("sep").join(f"{r.component} ({change(r.delta)}{p_text(r)})" for r in others))
            )
    else:
        lines.append(say("abl_none_critical", metric=metric, n=n))
    for r in helps:
        lines.append(say("abl_helps", component=r.component, metric=metric, change=change(r.delta), n=n, p=p_text(r)))
    if null:
        lines.append(
            say("abl_null", or_p=say("abl_or_p") if n >= MIN_SEEDS_FOR_P else "", components=say("sep").join(null))
        )
    best_mean = rows[0].replay.mean(metric)
    beyond = [
        r
        for r in rows
        if r.kind == "path"
        and r.delta is not None
        and measurable(spec, rows, r)
        and _score(spec, r.replay.mean(metric)) > _score(spec, best_mean)
    ]
    if beyond:
        top = max(beyond, key=lambda r: _score(spec, r.replay.mean(metric)))
        lines.append(say("abl_beyond", component=top.component, change=change(top.delta), n=n, p=p_text(top)))
    above = [
        r
        for r in rows
        if r.kind == "path"
        and r.delta is not None
        and r not in beyond
        and _score(spec, r.replay.mean(metric)) > _score(spec, best_mean)
    ]
    if above:  # higher, but not measurably: a tie, said as one
        top = max(above, key=lambda r: _score(spec, r.replay.mean(metric)))
        lines.append(say("abl_above_tie", component=top.component, change=change(top.delta), n=n, p=p_text(top)))
    for objective in spec.objectives[1:]:
        deltas = [(r, objective_delta(rows, r, objective.metric)) for r in loo]
        deltas = [(r, d) for r, d in deltas if d is not None]
        if deltas:  # the component whose removal makes this objective worse by the most
            sign = 1.0 if objective.direction == "maximize" else -1.0
            r, d = min(deltas, key=lambda rd: sign * rd[1])
            lines.append(
                say(
                    "abl_objective",
                    metric=objective.metric,
                    direction=say(objective.direction),
                    component=r.component,
                    delta=f"{d:+.4g}",
                    best=f"{rows[0].replay.mean(objective.metric):.4g}",
                )
            )
    return lines


def objective_delta(rows: list[AblationRow], row: AblationRow, metric: str) -> float | None:
    """``row``'s mean of ``metric`` minus the best configuration's (the first row)."""
    m, best = row.replay.mean(metric), rows[0].replay.mean(metric)
    return None if m is None or best is None else m - best
