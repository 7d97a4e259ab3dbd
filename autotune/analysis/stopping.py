"""Stopping at the noise floor: end a search once its trials stop beating the best by more than seed noise.

The rule (a spec's ``stop: {rule: noise, patience: P, seeds: N}``, or ``autotune run --stop noise``):
take the study's finished trials (complete or pruned) in trial-number order. The search stops when
the last P of them hold no trial that beats the best complete trial before them by more than ``s``,
where ``s`` is the standard deviation of the metric over N extra seeds of the *incumbent*'s
configuration (the incumbent: the best complete trial so far, which may be one of those P). A gain
smaller than ``s`` is one that re-seeding the same configuration gives or takes away, so P trials in a
row without a larger one say the search has reached the noise floor. Pruned and infeasible trials
count as finished trials that beat nothing; failed trials do not count. The rule is judged only
while the study is short of its trial target, and only from P + 1 finished trials on.

The spread runs are replays (:mod:`autotune.storage.replays`) over the confirmation seeds
(:func:`autotune.analysis.confirmation_runs.confirm_seeds`), stored in ``<study>:replays``, never counted as
search trials: a run already stored is read back, never trained again, and a later ``autotune
confirm`` with as many seeds reuses them. The spread is measured once the rule can first be
judged, and again whenever the incumbent changes; a spread that cannot be measured (a seed
diverged) lets the search go on.

Several workers: the rule is checked before every trial is claimed, under the study's slot lock,
from what the database holds, so every worker judges the same history. The first worker that sees
it fire records the stop in the study's user attribute ``stopped`` (see :func:`line`); every worker
then stops claiming trials (running ones finish). The spread is measured under the same lock, so
no run is trained twice; the other workers wait for their next claim meanwhile.

:func:`window_gain` and :func:`decide` hold the rule on plain numbers; :class:`NoiseFloor` is the glue.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import optuna

from autotune.analysis.confirmation_runs import confirm_seeds
from autotune.base import interrupts
from autotune.errors import OptionError
from autotune.hardware.precision import recorded
from autotune.hardware.steps import recorded_step
from autotune.search import goals
from autotune.search.configs import config_of
from autotune.spec.study import STOP_RULES, StopSpec, StudySpec
from autotune.storage.replays import ReplayStore, SeedRun, replay
from autotune.storage.studies import FINISHED_STATES
from autotune.words import i18n

#: The study user attribute that holds the rule the current `run` set (``StopSpec.to_dict()``, or None).
RULE_KEY = "stop_rule"
#: The study user attribute that records the stop once the rule fired (see :meth:`NoiseFloor.__call__`).
RECORD_KEY = "stopped"
#: What the spread runs are marked with in ``<study>:replays``.
PURPOSE = "noise floor"


# --------------------------------------------------------------------------------------
# The rule, on plain numbers


def window_gain(values: Sequence[float | None], *, patience: int, direction: str) -> float | None:
    """How far the best of the last ``patience`` values beats the best value before them (> 0: better).

    ``values``: one per finished trial, in trial order; None for a trial with no value that can be
    the best (pruned, infeasible). None when the rule cannot be judged yet: ``patience`` values or
    fewer, or none with a value before the last ``patience``. ``-inf`` when none of the last
    ``patience`` has a value.
    """
    if len(values) <= patience:
        return None
    sign = 1.0 if direction == "maximize" else -1.0
    before = [sign * v for v in values[:-patience] if v is not None]
    if not before:
        return None
    window = [sign * v for v in values[-patience:] if v is not None]
    return max(window) - max(before) if window else -math.inf


def decide(values: Sequence[float | None], *, patience: int, spread: float | None, direction: str) -> bool:
    """Whether to stop: the last ``patience`` values beat the best before them by ``spread`` at most.

    ``spread`` None (not measured, or a seed diverged) never stops the search.
    """
    gain = window_gain(values, patience=patience, direction=direction)
    return gain is not None and spread is not None and math.isfinite(spread) and gain <= spread


# --------------------------------------------------------------------------------------
# The rule a run sets, and the stop it records


def resolve(spec: StudySpec, stop: str | None, patience: int | None) -> StopSpec | None:
    """The rule a run uses: ``stop`` (``--stop``) over the spec's ``stop:`` block, ``patience``
    (``--stop-patience``) over either's. Checked before anything is opened."""
    if stop is not None and stop not in STOP_RULES:
        raise OptionError(f"«stop» {stop!r} is not a stopping rule; allowed: {', '.join(STOP_RULES)}")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise OptionError(f"«stop_patience» must be an integer >= 1, got {patience!r}")
    rule = spec.stop if stop is None else replace(spec.stop or StopSpec(), rule=stop)
    if rule is None:
        if patience is not None:
            raise OptionError(
                f"«stop_patience» {patience} needs a stopping rule: add «stop» noise, or a stop: "
                f"block to spec '{spec.name}'"
            )
        return None
    if spec.multi_objective:
        raise OptionError(
            f"«stop» {rule.rule}: the rule compares trials by one objective, and study '{spec.name}' "
            f"has {len(spec.objectives)} ({', '.join(spec.metrics)})"
        )
    return rule if patience is None else replace(rule, patience=patience)


def set_rule(study: optuna.Study, rule: StopSpec | None) -> None:
    """Record the rule of this run for every worker of the study; a stop recorded under another rule
    (or none) no longer holds and is cleared."""
    wanted = None if rule is None else rule.to_dict()
    if study.user_attrs.get(RULE_KEY) != wanted:  # a study never run with a rule gets no attribute
        study.set_user_attr(RULE_KEY, wanted)
    record = stored(study)
    if record is not None and record["rule"] != wanted:
        study.set_user_attr(RECORD_KEY, None)


def rule_of(study: optuna.Study) -> StopSpec | None:
    """The rule the study's last `run` set (None: search to the target)."""
    raw = study.user_attrs.get(RULE_KEY)
    return StopSpec(**raw) if isinstance(raw, dict) else None


def stored(study: optuna.Study) -> dict[str, Any] | None:
    """The study's recorded stop (what :class:`NoiseFloor` wrote when the rule fired), or None."""
    record = study.user_attrs.get(RECORD_KEY)
    return record if isinstance(record, dict) else None


def _value(record: dict[str, Any], value: float) -> str:
    return f"{value * 100:.2f}%" if record["metric"] == "val_accuracy" else f"{value:.4g}"


def _diff(record: dict[str, Any], value: float) -> str:
    return f"{value * 100:.2f} pp" if record["metric"] == "val_accuracy" else f"{value:.4g}"


def line(record: dict[str, Any], *, finished: int, target: int, lang: str = "en") -> str:
    """Why the search stopped, every number with what backs it. ``finished``: the study's finished
    trials now (trials that were running when the rule fired finish after it)."""

    rule, window, before = record["rule"], record["window"], record["best_before"]
    return i18n.say(
        lang,
        "stopped_line",
        patience=rule["patience"],
        first=window[0],
        last=window[-1],
        spread=_diff(record, record["spread"]),
        seeds=rule["seeds"],
        incumbent=record["incumbent"],
        before=_value(record, before["value"]),
        before_trial=before["trial"],
        left=max(target - finished, 0),
        target=target,
    )


# --------------------------------------------------------------------------------------
# The glue: reads the study, measures the spread, records the stop


def _trial_value(trial: optuna.trial.FrozenTrial) -> float | None:
    """A finished trial's value where it can be the best: complete, finite, feasible."""
    if trial.state != optuna.trial.TrialState.COMPLETE or not trial.values or not goals.feasible(trial):
        return None
    return trial.values[0] if math.isfinite(trial.values[0]) else None


def _best(
    trials: Sequence[optuna.trial.FrozenTrial], values: Sequence[float | None], direction: str
) -> tuple[int, float] | None:
    """(trial number, value) of the best valued trial, the earliest on a tie; None if none has a value."""
    sign = 1.0 if direction == "maximize" else -1.0
    valued = [(t.number, v) for t, v in zip(trials, values) if v is not None]
    return max(valued, key=lambda p: (sign * p[1], -p[0])) if valued else None


def _spread(values: Sequence[float | None]) -> float | None:
    if len(values) < 2 or any(v is None or not math.isfinite(v) for v in values):
        return None
    return statistics.stdev(values)  # type: ignore[arg-type]


class NoiseFloor:
    """One worker's side of the rule: call it with (study, target) before each trial is claimed.

    ``storage``: the study's storage, where ``<study>:replays`` keeps the spread runs (None: keep
    them in this object only, as a benchmark's in-memory study does). ``load_splits``: the data on
    the CPU, loaded on the first measurement. ``note``: progress lines.
    """

    def __init__(
        self,
        spec: StudySpec,
        rule: StopSpec,
        *,
        storage: Any,
        load_splits: Callable[[], Any],
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.spec, self.rule, self.storage = spec, rule, storage
        self._load_splits, self._splits = load_splits, None
        self._note = note or (lambda text: None)
        self._measured: dict[int, tuple[float | None, list[int], list[float | None]]] = {}
        self.trained_epochs = 0  # epochs this object trained to measure spreads (reused runs cost none)

    def __call__(self, study: optuna.Study, target: int) -> bool:
        """Whether the search must stop now; records the stop in the study the first time the rule fires."""
        if stored(study) is not None:
            return True
        trials = sorted(study.get_trials(deepcopy=False, states=FINISHED_STATES), key=lambda t: t.number)
        if len(trials) >= target:
            return False  # the target is met: the run ends as any run does
        values = [_trial_value(t) for t in trials]
        patience, direction = self.rule.patience, self.spec.direction
        if window_gain(values, patience=patience, direction=direction) is None:
            return False
        incumbent = _best(trials, values, direction)
        assert incumbent is not None  # window_gain found a value before the window
        trial = next(t for t in trials if t.number == incumbent[0])
        spread, seeds, spread_values = self.measure(study, trial)
        if not decide(values, patience=patience, spread=spread, direction=direction):
            return False
        before = _best(trials[:-patience], values[:-patience], direction)
        inside = _best(trials[-patience:], values[-patience:], direction)
        assert before is not None
        study.set_user_attr(
            RECORD_KEY,
            {
                "rule": self.rule.to_dict(),
                "metric": self.spec.metric,
                "direction": direction,
                "target": target,
                "finished": len(trials),
                "window": [t.number for t in trials[-patience:]],
                "best_before": {"trial": before[0], "value": before[1]},
                "best_in_window": None if inside is None else {"trial": inside[0], "value": inside[1]},
                "incumbent": incumbent[0],
                "spread": spread,
                "seed_list": seeds,
                "spread_values": spread_values,
            },
        )
        return True

    def measure(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial
    ) -> tuple[float | None, list[int], list[float | None]]:
        """(spread, seeds, values): the standard deviation of the metric over the rule's seeds of ``trial``'s
        configuration (None if a seed diverged), reading back runs already in the replay store."""
        if trial.number not in self._measured:
            seeds = confirm_seeds(self.spec.seed, self.rule.seeds)
            store = ReplayStore(self.storage, study.study_name) if self.storage is not None else None
            self._note(f"Measuring the noise floor: trial {trial.number}'s configuration over {len(seeds)} seeds")
            if self._splits is None:
                self._splits = self._load_splits()

            counts = {"trained": 0, "read back": 0}

            def ran(run: SeedRun) -> None:
                counts["read back" if run.reused else "trained"] += 1
                if not run.reused:
                    self.trained_epochs += run.epochs

            with interrupts.allowed():  # minutes of training under the slot lock: Ctrl-C must not wait
                result = replay(
                    self.spec,
                    config_of(self.spec, trial),
                    seeds=seeds,
                    splits=self._splits,
                    label=f"trial {trial.number}",
                    store=store,
                    precision=recorded(trial.user_attrs),
                    step=recorded_step(trial.user_attrs),
                    extra={"source_trial": trial.number, "purpose": PURPOSE},
                    on_run=ran,
                )
            values = [getattr(r, self.spec.metric) for r in result.runs]
            self._measured[trial.number] = (_spread(values), seeds, values)
            spread = self._measured[trial.number][0]
            self._note(
                f"  trial {trial.number}'s {self.spec.metric} std over {len(seeds)} seeds: "
                + ("none (a seed diverged)" if spread is None else f"{spread:.4g}")
                + f" ({counts['trained']} run(s) trained, {counts['read back']} read back from the replay store)"
            )
        return self._measured[trial.number]
