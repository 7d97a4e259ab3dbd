"""What a study optimises: objective values, constraints, feasibility and the Pareto front.

One place answers "what is this trial's value?" for single- and multi-objective studies alike,
so progress lines, run summaries, reports, exports and replays agree. A multi-objective
study's *primary* objective is its first (always a validation metric): it is what the epoch
progress shows and what the report's per-parameter analysis uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from autotune.errors import OptionError, TrialNotFoundError
from autotune.spec.study import StudySpec

if TYPE_CHECKING:
    from autotune.data.datasets import Splits
    from autotune.training.loop import FitResult

#: Where each metric is kept in a trial's user attributes.
ATTRS = {
    "val_accuracy": "val_accuracy",
    "val_loss": "val_loss",
    "train_seconds": "wall_time_s",
    "params": "n_params",
    "latency_ms": "latency_ms",
}


def measure(
    spec: StudySpec, result: FitResult, splits: Splits, device: Any = "cpu", precision: str = "fp32"
) -> dict[str, float | None]:
    """Every metric a trial's objectives and constraints need, from its finished training run.

    Inference latency is timed only when the spec uses it (a fixed batch of validation images
    on the trial's device, in the trial's precision, see :func:`autotune.training.loop.latency_ms`).
    """
    last = result.last
    assert last is not None
    out: dict[str, float | None] = {
        "val_accuracy": last.val_accuracy,
        "val_loss": last.val_loss,
        "train_seconds": round(result.seconds, 3),
        "params": result.n_params,
    }
    if spec.needs("latency_ms"):
        # imported here, not at the top: keeps torch off the import of this module
        from autotune.training.loop import LATENCY_BATCH, latency_ms

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
    return [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.values and all(math.isfinite(v) for v in t.values)
    ]


def pareto_front(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The non-dominated complete trials (feasible ones only where constraints exist), by number."""
    return sorted(study.best_trials, key=lambda t: t.number)


def by_hand(trial: optuna.trial.FrozenTrial) -> bool:
    """A trial imported from a hand table with its recorded result (``autotune import``): autotune trained nothing,
    and its value comes from the student's own training (their epochs, their schedule), not the spec's budget."""
    return trial.user_attrs.get("source") == "hand"


def best_trial(study: optuna.Study, objective: int = 0, *, hand_rows: bool = False) -> optuna.trial.FrozenTrial:
    """The search's best: the feasible complete trial autotune trained with the best value of objective
    ``objective`` (the lowest trial number among equal values). Hand rows are left out unless ``hand_rows``:
    their values were measured under another protocol, so no best is chosen by comparing them."""
    trials = complete(study)
    pool = [t for t in trials if feasible(t) and (hand_rows or not by_hand(t))]
    if not pool:
        constrained = any(t.constraints for t in trials)
        hand = sum(1 for t in trials if by_hand(t))
        raise TrialNotFoundError(
            f"study '{study.study_name}' has no complete trial yet"
            + (" that meets its constraints" if constrained else "")
            + (
                ""
                if hand_rows or not hand
                else f" of autotune's own: its {hand} complete trial(s) are imported hand rows, measured with "
                "their own training budget; run `autotune run` to search"
            )
        )
    sign = 1.0 if study.directions[objective] == optuna.study.StudyDirection.MAXIMIZE else -1.0
    return max(pool, key=lambda t: (sign * t.values[objective], -t.number))


#: Where a study keeps its latest confirmation (written by :func:`autotune.analysis.confirmation.confirm`).
CONFIRMATION_KEY = "confirmation"
#: How a confirmation row compares with the confirmation's top trial when it measured a difference.
MEASURED_WORSE = ("worse", "diverged")


@dataclass(frozen=True)
class Best:
    """The one best trial every command means (see :func:`the_best`), and why it is the one."""

    trial: optuna.trial.FrozenTrial
    #: "search": the search's best, no confirmation speaks of it; "confirmed": the confirmation's top, which is the
    #: search's best or measured it worse; "tie": the confirmation's top is another trial but measured no
    #: difference, so the search's best is kept.
    basis: str
    search_best: optuna.trial.FrozenTrial
    confirmation: dict[str, Any] | None = None
    #: The confirmation's top when it differs from the chosen trial (basis "tie"), else None.
    tied_with: int | None = None
    #: Complete trials the study gained after its confirmation (0 without one).
    since_confirmation: int = 0

    @property
    def number(self) -> int:
        return self.trial.number


def measured_worse(record: dict[str, Any], number: int) -> bool:
    """Whether confirmation ``record`` measured trial ``number`` worse than its top trial: a Holm-adjusted paired
    p <= alpha, a diverged seed, or the same non-zero difference on every seed. Anything else is a tie."""
    rows = {r["trial"]: r for r in record["ranking"]}
    row, top = rows[number], rows[record["best_trial"]]
    return row["versus_top"] in MEASURED_WORSE or (
        row["versus_top"] == "same difference on every seed" and row["mean"] != top["mean"]
    )


def the_best(study: optuna.Study) -> Best:
    """The best trial, one rule for every command (export, replay and ablate's ``best``, sweep, report, run):

    1. The search's best (:func:`best_trial`): autotune's own complete, feasible trials by stored value; hand rows
       are evidence of another protocol and never chosen.
    2. A stored confirmation that ranks the search's best keeps it when it is the top; it replaces it by its top
       only where it measured the search's best worse (Holm-adjusted paired p <= alpha, a diverged seed, or the
       same non-zero difference on every seed). Otherwise the two tie and the search's best is kept: a mean a
       few seeds cannot tell apart is no reason to switch.
    3. A multi-objective study has no single best here: its first objective's best is returned, basis "search".
    """
    search = best_trial(study)
    if is_multi(study):
        return Best(search, "search", search)
    record = study.user_attrs.get(CONFIRMATION_KEY)
    if not isinstance(record, dict) or not isinstance(record.get("ranking"), list):
        return Best(search, "search", search)
    since = max(0, len(complete(study)) - int(record.get("complete_trials", 0)))
    rows = {r["trial"]: r for r in record["ranking"]}
    top = record.get("best_trial")
    trials = study.get_trials(deepcopy=False)
    if search.number not in rows or top is None or not 0 <= top < len(trials):
        return Best(search, "search", search, record, since_confirmation=since)
    if top == search.number:
        return Best(search, "confirmed", search, record, since_confirmation=since)
    challenger = trials[top]
    usable = challenger.state == TrialState.COMPLETE and not by_hand(challenger) and feasible(challenger)
    if usable and measured_worse(record, search.number):
        return Best(challenger, "confirmed", search, record, since_confirmation=since)
    return Best(
        search,
        "tie" if usable else "search",
        search,
        record,
        tied_with=top if usable else None,
        since_confirmation=since,
    )


def objective_index(spec: StudySpec, which: str | None) -> int:
    """``--objective``: a metric name or a 0-based index into the spec's objectives (default 0)."""
    if which is None:
        return 0
    if which in spec.metrics:
        return spec.metrics.index(which)
    if which.isdigit() and int(which) < len(spec.metrics):
        return int(which)
    raise OptionError(
        f"«objective» '{which}' is not an objective of this study; allowed: "
        + ", ".join(f"{i} or {m}" for i, m in enumerate(spec.metrics))
    )


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether values ``a`` are at least as good as ``b`` everywhere and better somewhere."""
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]
    at_least = all(s * x >= s * y for s, x, y in zip(signs, a, b))
    return at_least and any(s * x > s * y for s, x, y in zip(signs, a, b))
