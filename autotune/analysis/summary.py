"""Numbers behind a report: summary, the seed-format trial table, effects. No drawing here.

Importances live in :mod:`autotune.analysis.importance`; ``analysis.importances`` still names them."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import Counter, defaultdict
from typing import Any

import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState

from autotune.analysis.importance import IMPORTANCE_SEEDS, importances  # noqa: F401  (moved; older imports still work)
from autotune.base import timing
from autotune.errors import TrialNotFoundError
from autotune.search import goals
from autotune.spec.study import StudySpec
from autotune.words import i18n

#: A parameter value (or range) is named best or worst only when at least this many trials back it.
MIN_PER_GROUP = 3


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def complete(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Complete trials with finite values; per-parameter analysis uses their first (primary) objective."""
    return goals.complete(study)


by_hand = goals.by_hand  # a trial imported from a hand table with its recorded result

#: "Best practice" is said only over at least this many complete trials whose two importances (PED-ANOVA and
#: fANOVA) put the same parameter first; otherwise the section is "leads to test" (a rule written before use).
PRACTICE_MIN_TRIALS = 30


def practice_supported(imp: dict[str, Any], n_complete: int) -> bool:
    """Whether the report may call its ranking "best practice" (:data:`PRACTICE_MIN_TRIALS`)."""
    first = [next((p for p in imp.get(name, {}) if p != "error"), None) for name in ("default", "fanova")]
    return n_complete >= PRACTICE_MIN_TRIALS and first[0] is not None and first[0] == first[1]


def own_trials(study: optuna.Study) -> optuna.Study:
    """``study`` itself, or where it holds imported hand rows an in-memory copy without them (same name,
    directions, metric names and user attributes): importance and analysis rest on autotune's own trials, one
    protocol, and the hand rows are compared apart (:mod:`autotune.analysis.hand_compare`). Each hand row's place
    holds a bare FAIL trial, which no importance, analysis or figure counts, so every other trial keeps its own number
    (the figures name trials by number)."""
    trials = study.get_trials(deepcopy=False)
    if not any(by_hand(t) for t in trials):
        return study
    own = optuna.create_study(study_name=study.study_name, directions=study.directions)
    if study.metric_names:
        own.set_metric_names(study.metric_names)
    for key, value in study.user_attrs.items():
        own.set_user_attr(key, value)
    own.add_trials([optuna.trial.create_trial(state=TrialState.FAIL) if by_hand(t) else t for t in trials])
    return own


def summary(study: optuna.Study, spec: StudySpec) -> dict[str, Any]:
    trials = study.get_trials(deepcopy=False)
    done = finished(study)
    trained = [t for t in done if not by_hand(t)]  # a hand trial's epochs and times are not autotune's
    epochs = sum(int(t.user_attrs.get("epochs", 0)) for t in trained)
    budget = spec.max_epochs * len(trained)
    starts = [t.datetime_start for t in trials if t.datetime_start and not by_hand(t)]
    ends = [t.datetime_complete for t in trials if t.datetime_complete and not by_hand(t)]
    best = None
    if not spec.multi_objective:  # the one best every command means (autotune's trials, confirmation's rule)
        try:
            best = goals.the_best(study).trial
        except TrialNotFoundError:
            best = None
    done_complete = [t for t in trials if t.state == TrialState.COMPLETE]
    infeasible = [t.number for t in done_complete if not goals.feasible(t)]
    return {
        "study": study.study_name,
        "spec": spec.name,
        "description": spec.description,
        "dataset": spec.dataset_name,
        "model": spec.model,
        "metric": spec.metric,
        "direction": spec.direction,
        "states": dict(sorted(Counter(t.state.name for t in trials).items())),
        "n_trials": len(trials),
        "best_trial": best.number if best else None,
        "best_value": best.value if best else None,
        "best_params": dict(best.params) if best else {},
        "trial_seconds": round(sum(t.duration.total_seconds() for t in trials if t.duration), 1),
        "wall_seconds": round((max(ends) - min(starts)).total_seconds(), 1) if starts and ends else None,
        "epochs_trained": epochs,
        "epochs_without_pruning": budget,
        "pruning_saved": round(1 - epochs / budget, 3) if budget else None,
        "objectives": [{"metric": o.metric, "direction": o.direction} for o in spec.objectives],
        "constraints": [str(c) for c in spec.constraints],
        "infeasible": infeasible,
        "feasible": len(done_complete) - len(infeasible),
        "time_s": timing.time_totals(trials),
    }


def pareto(study: optuna.Study, spec: StudySpec) -> list[dict[str, Any]]:
    """The non-dominated feasible trials (Optuna's ``study.best_trials``) with their values and parameters."""
    if not spec.multi_objective:
        return []
    return [
        {"number": t.number, **dict(zip(spec.metrics, t.values)), "params": dict(t.params)}
        for t in goals.pareto_front(study)
    ]


def trial_rows(study: optuna.Study, spec: StudySpec | None = None) -> list[dict[str, Any]]:
    """One row per trial with the seed reports' columns (and state, feasibility, further objectives)."""
    extra = [m for m in (spec.metrics if spec is not None else ()) if m not in ("val_accuracy", "val_loss")]
    rows = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        config = a.get("config") if isinstance(a.get("config"), dict) else {}  # a hand trial's values outside the space

        def param(name: str) -> Any:  # a searched parameter; a hand trial's value outside the space from its config
            return t.params.get(name, config.get(name) if spec is None or spec.param(name) else None)

        rows.append(
            {
                "number": t.number,
                "state": t.state.name.lower(),
                "source": a.get("source"),
                "lr": param("lr"),
                "batch_size": param("batch_size"),
                "structure": a.get("structure"),
                "init": param("init"),
                "train_loss": a.get("train_loss"),
                "val_accuracy": a.get("val_accuracy"),
                "val_loss": a.get("val_loss"),
                "value": goals.primary(t),
                **{m: goals.value_of(t, m) for m in extra},
                "feasible": goals.feasible(t),
                "remark": a.get("remark", ""),
            }
        )
    return rows


@dataclasses.dataclass(frozen=True)
class Basis:
    """What a per-parameter comparison rests on: the metric, the trials, and the epoch they are compared at."""

    metric: str
    n: int
    epoch: int | None = None  # None: complete trials compared by their final values
    pruned: int = 0

    def text(self, lang: str = "en") -> str:
        if self.epoch is None:
            return i18n.say(lang, "basis_final", metric=self.metric, n=self.n)
        return i18n.say(lang, "basis_epoch", metric=self.metric, epoch=self.epoch, n=self.n, pruned=self.pruned)

    def __str__(self) -> str:
        return self.text("en")


def evidence(study: optuna.Study, spec: StudySpec) -> tuple[list[tuple[optuna.trial.FrozenTrial, float]], Basis]:
    """The (trial, value) pairs a per-parameter comparison may use, and what they are (:class:`Basis`).

    Pruned trials are evidence too (a configuration that never learns is pruned early): where there are
    any, every finished trial is compared at the latest epoch all of them reached (:func:`common_epoch`),
    from its reported validation values; otherwise complete trials are compared by their final values.
    """
    done = complete(study)
    epoch = common_epoch(study, spec)
    if epoch is None:
        return [(t, t.values[0]) for t in done], Basis(spec.metric, len(done))
    pairs = _at_epoch(done + study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)), epoch)
    n_pruned = sum(t.state == TrialState.PRUNED for t, _ in pairs)
    return pairs, Basis(spec.metric, len(pairs), epoch, n_pruned)


def common_epoch(study: optuna.Study, spec: StudySpec) -> int | None:
    """The latest epoch every finished trial reported, where some trials were pruned (None where none were,
    or in a multi-objective study): the epoch at which :func:`evidence` compares trials."""
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    finished = [t for t in complete(study) + pruned if t.intermediate_values]
    if spec.multi_objective or not pruned or not finished:
        return None
    return min(max(t.intermediate_values) for t in finished)


def _at_epoch(trials: list[optuna.trial.FrozenTrial], epoch: int) -> list[tuple[optuna.trial.FrozenTrial, float]]:
    return [
        (t, t.intermediate_values[epoch])
        for t in trials
        if epoch in t.intermediate_values and math.isfinite(t.intermediate_values[epoch])
    ]


def effects(study: optuna.Study, spec: StudySpec) -> list[dict[str, Any]]:
    """Per parameter: the best and worst value (or value range) by mean metric over the :func:`evidence`
    trials; a value needs MIN_PER_GROUP trials to be named, else the entry says ``too_few``."""
    trials, _ = evidence(study, spec)
    sign = 1 if spec.direction == "maximize" else -1
    out = []
    for param in sorted({p for t, _ in trials for p in t.params}):
        pairs = [(t.params[param], y) for t, y in trials if param in t.params]
        if len(pairs) < 2:
            continue
        values = [v for v, _ in pairs]
        groups: dict[str, list[float]] = defaultdict(list)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) and len(set(values)) > 4
        if numeric:
            ordered = sorted(values)
            cuts = [ordered[len(ordered) // 3], ordered[2 * len(ordered) // 3]]
            for v, y in pairs:
                idx = 0 if v < cuts[0] else 1 if v < cuts[1] else 2
                groups[str(idx)].append(y)
            bounds = [ordered[0], cuts[0], cuts[1], ordered[-1]]
            labels = {str(i): f"[{_fmt(bounds[i])}, {_fmt(bounds[i + 1])}]" for i in range(3)}
        else:
            for v, y in pairs:
                groups[str(v)].append(y)
            labels = {k: k for k in groups}
        stats = {k: (statistics.fmean(v), len(v)) for k, v in groups.items() if v}
        if len(stats) < 2:
            continue
        entry: dict[str, Any] = {
            "param": param,
            "kind": "range" if numeric else "value",
            "groups": {labels[k]: {"mean": m, "n": n} for k, (m, n) in stats.items()},
        }
        backed = {k: s for k, s in stats.items() if s[1] >= MIN_PER_GROUP}
        if len(backed) < 2:
            out.append({**entry, "too_few": True, "difference": 0.0})
            continue
        best = max(backed, key=lambda k: sign * backed[k][0])
        worst = min(backed, key=lambda k: sign * backed[k][0])
        out.append(
            {
                **entry,
                "too_few": False,
                "best": labels[best],
                "best_mean": stats[best][0],
                "best_n": stats[best][1],
                "worst": labels[worst],
                "worst_mean": stats[worst][0],
                "worst_n": stats[worst][1],
                "difference": stats[best][0] - stats[worst][0],
            }
        )
    return sorted(out, key=lambda e: (e["too_few"], -abs(e["difference"])))


def confounded(study: optuna.Study, spec: StudySpec) -> list[tuple[str, str]]:
    """Pairs of parameters that split the :func:`evidence` trials the same way (e.g. augment and batch_norm
    on in exactly the same trials): their effects cannot be told apart."""
    trials, _ = evidence(study, spec)
    splits: dict[str, frozenset] = {}
    for param in sorted({p for t, _ in trials for p in t.params}):
        having = [t for t, _ in trials if param in t.params]
        values = {t.params[param] for t in having}
        if len(having) < len(trials) or not 2 <= len(values) <= 4:  # conditional, constant or a continuous range
            continue
        splits[param] = frozenset(frozenset(t.number for t in having if t.params[param] == v) for v in values)
    names = list(splits)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :] if splits[a] == splits[b]]


def slice_points(study: optuna.Study, spec: StudySpec) -> dict[str, Any]:
    """What a slice plot may show: ``{"epoch": k or None, "params": {param: [(value, metric, trial number,
    pruned), ...]}, "log": {numeric param: on a log scale}}``; complete trials with their final value, pruned
    ones (where :func:`evidence` counts them) with their value at epoch ``k``, the :func:`common_epoch`."""
    epoch = common_epoch(study, spec)
    pruned = [] if epoch is None else _at_epoch(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)), epoch)
    points: dict[str, list[tuple[Any, float, int, bool]]] = defaultdict(list)
    for t, value, is_pruned in [(t, t.values[0], False) for t in complete(study)] + [(t, v, True) for t, v in pruned]:
        for param, x in t.params.items():
            points[param].append((x, value, t.number, is_pruned))
    return {"epoch": epoch, "params": dict(sorted(points.items())), "log": numeric_params(study)}


def numeric_params(study: optuna.Study) -> dict[str, bool]:
    """The parameters every finished trial sampled from a float or int range: name -> whether on a log scale."""
    numeric: dict[str, bool] = {}
    other: set[str] = set()
    for t in finished(study):
        for name, dist in t.distributions.items():
            if isinstance(dist, (FloatDistribution, IntDistribution)):
                numeric[name] = dist.log
            else:
                other.add(name)
    return {k: v for k, v in numeric.items() if k not in other}


#: A contour interpolates between its trials: with fewer, its colours are mostly guesses, so none is drawn.
MIN_CONTOUR_TRIALS = 10


def contour_params(study: optuna.Study, ranked: list[str]) -> list[str]:
    """The two highest-ranked numeric parameters (a contour interpolates between values, which a categorical
    axis does not have), or [] where there are fewer than two, or fewer than MIN_CONTOUR_TRIALS complete trials."""
    if len(complete(study)) < MIN_CONTOUR_TRIALS:
        return []
    numeric = numeric_params(study)
    picked = [p for p in ranked if p in numeric][:2]
    return picked if len(picked) == 2 else []


def contour_points(study: optuna.Study, params: list[str]) -> list[tuple[float, float, float, int]]:
    """(x, y, metric, trial number) for every complete trial that has both ``params``."""
    x, y = params
    return [
        (t.params[x], t.params[y], t.values[0], t.number) for t in complete(study) if x in t.params and y in t.params
    ]


def depth_width(study: optuna.Study, spec: StudySpec) -> dict[str, Any]:
    """Best metric by depth (rows) × widest layer, rounded to a power of two (columns)."""
    per_layer = spec.per_layer or "(custom model)"  # a custom model has no per-layer widths: no cells
    sign = 1 if spec.direction == "maximize" else -1
    cells: dict[tuple[int, int], float] = {}
    for t in complete(study):
        config_depth = t.params.get("n_layers", spec.fixed.get("n_layers"))
        widths = [v for k, v in t.params.items() if k.startswith(f"{per_layer}_l")]
        if not isinstance(config_depth, int) or not widths:
            continue
        width = 2 ** round(math.log2(max(widths)))
        key = (config_depth, width)
        if key not in cells or sign * t.values[0] > sign * cells[key]:
            cells[key] = t.values[0]
    depths = sorted({d for d, _ in cells})
    widths = sorted({w for _, w in cells})
    return {
        "depths": depths,
        "widths": widths,
        "best": [[cells.get((d, w)) for w in widths] for d in depths],
        "per_layer": per_layer,
    }


def best_practice(
    spec: StudySpec, effects_: list[dict[str, Any]], imp: dict[str, Any], *, lang: str = "en"
) -> list[str]:
    """A short summary that states only what the numbers show, and on what it rests."""
    ranking = [p for p in imp.get("default", {}) if p != "error"]
    by_param = {e["param"]: e for e in effects_ if not e["too_few"]}
    pct = spec.metric == "val_accuracy"
    lines = []
    for param in ranking[:3]:
        e = by_param.get(param)
        if e is None:
            continue
        lines.append(
            i18n.say(
                lang,
                "practice_line",
                param=param,
                importance=f"{imp['default'][param]['mean']:.2f}",
                kind=i18n.say(lang, e["kind"]),
                best=e["best"],
                metric=spec.metric,
                best_mean=format_metric(e["best_mean"], pct),
                best_n=e["best_n"],
                worst=e["worst"],
                worst_mean=format_metric(e["worst_mean"], pct),
                worst_n=e["worst_n"],
            )
        )
    fanova = [p for p in imp.get("fanova", {}) if p != "error"]
    if lines:
        tail = (
            i18n.say(lang, "practice_differs", first=fanova[0])
            if fanova and fanova[0] != ranking[0]
            else i18n.say(lang, "practice_agrees")
            if fanova
            else i18n.say(lang, "full_stop")
        )
        lines.insert(0, i18n.say(lang, "practice_head", tail=tail))
    return lines


def format_metric(value: float, pct: bool) -> str:
    return f"{value * 100:.2f}%" if pct else f"{value:.4g}"


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
