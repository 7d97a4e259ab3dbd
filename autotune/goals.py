"""What a study optimises: objective values, constraints, feasibility and the Pareto front.

One place answers "what is this trial's value?" for single- and multi-objective studies alike,
so progress lines, run summaries, reports, exports and replays agree. A multi-objective
study's *primary* objective is its first (always a validation metric): it is what the epoch
progress shows and what the report's per-parameter analysis uses.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import optuna
from optuna.trial import TrialState

from autotune.errors import OptionError, TrialNotFoundError
from autotune.spec import StudySpec

if TYPE_CHECKING:
    from autotune.data import Splits
    from autotune.train import FitResult

#: Where each metric is kept in a trial's user attributes.
ATTRS = {"val_accuracy": "val_accuracy", "val_loss": "val_loss", "train_seconds": "wall_time_s",
         "params": "n_params", "latency_ms": "latency_ms"}


def measure(spec: StudySpec, result: FitResult, splits: Splits, device: Any = "cpu",
            precision: str = "fp32") -> dict[str, float | None]:
    """Every metric a trial's objectives and constraints need, from its finished training run.

    Inference latency is timed only when the spec uses it (a fixed batch of validation images
    on the trial's device, in the trial's precision, see :func:`autotune.train.latency_ms`).
    """
    last = result.last
    assert last is not None
    out: dict[str, float | None] = {"val_accuracy": last.val_accuracy, "val_loss": last.val_loss,
                                    "train_seconds": round(result.seconds, 3), "params": result.n_params}
    if spec.needs("latency_ms"):
        from autotune.train import LATENCY_BATCH, latency_ms

        assert result.model is not None
        out["latency_ms"] = latency_ms(result.model, splits.val.x[:LATENCY_BATCH].to(device), precision=precision)
    return out


def violations(spec: StudySpec, values: dict[str, float | None]) -> dict[str, float]:
    """Each constraint's violation (<= 0 satisfied), keyed by its text; a missing value violates."""
    out = {}
    for c in spec.constraints:
        value = values.get(c.metric)
        out[str(c)] = math.inf if value is None or math.isnan(value) else c.violation(value)
    return out


def value_of(trial: optuna.trial.FrozenTrial, metric: str) -> float | None:
    """A measured metric of a stored trial (None when it was not measured)."""
    value = trial.user_attrs.get(ATTRS[metric])
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def primary(trial: optuna.trial.FrozenTrial) -> float | None:
    """The trial's first objective value (its only one in a single-objective study)."""
    return trial.values[0] if trial.values else None


def is_multi(study: optuna.Study) -> bool:
    return len(study.directions) > 1


def feasible(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether every constraint holds (always true without constraints)."""
    return all(v <= 0.0 for v in trial.constraints.values())


def complete(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Complete trials whose every objective value is finite."""
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.values and all(math.isfinite(v) for v in t.values)]


def pareto_front(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The non-dominated complete trials (feasible ones only where constraints exist), by number."""
    return sorted(study.best_trials, key=lambda t: t.number)


def best_trial(study: optuna.Study, objective: int = 0) -> optuna.trial.FrozenTrial:
    """The best feasible complete trial by objective ``objective`` (Optuna's own for one objective)."""
    def missing(trials: list[optuna.trial.FrozenTrial]) -> TrialNotFoundError:
        constrained = any(t.constraints for t in trials)
        return TrialNotFoundError(f"study '{study.study_name}' has no complete trial yet"
                             + (" that meets its constraints" if constrained else ""))

    if not is_multi(study):
        try:
            return study.best_trial
        except ValueError:
            raise missing(complete(study)) from None
    trials = complete(study)
    candidates = [t for t in trials if feasible(t)]
    if not candidates:
        raise missing(trials)
    sign = 1.0 if study.directions[objective] == optuna.study.StudyDirection.MAXIMIZE else -1.0
    return max(candidates, key=lambda t: (sign * t.values[objective], -t.number))


def objective_index(spec: StudySpec, which: str | None) -> int:
    """``--objective``: a metric name or a 0-based index into the spec's objectives (default 0)."""
    if which is None:
        return 0
    if which in spec.metrics:
        return spec.metrics.index(which)
    if which.isdigit() and int(which) < len(spec.metrics):
        return int(which)
    raise OptionError(f"--objective '{which}' is not an objective of this study; allowed: "
                        + ", ".join(f"{i} or {m}" for i, m in enumerate(spec.metrics)))


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether values ``a`` are at least as good as ``b`` everywhere and better somewhere."""
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]
    at_least = all(s * x >= s * y for s, x, y in zip(signs, a, b))
    return at_least and any(s * x > s * y for s, x, y in zip(signs, a, b))
