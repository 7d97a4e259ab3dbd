"""The summary of a run: what ``autotune run`` and ``autotune worker`` print (and ``--json`` writes) when they end,
read back from the study: its trial states, its best trial or Pareto front, the time the finished trials took, and
why it stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
from collections import Counter
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from autotune.analysis import stopping
from autotune.base.timing import time_totals
from autotune.errors import TrialNotFoundError
from autotune.search import goals
from autotune.storage.studies import count_finished, redact


@dataclass(frozen=True)
class ParetoPoint:
    """One trial of a multi-objective study's Pareto front: its number, its value per objective, its parameters."""

    trial: int
    values: dict[str, float]
    params: dict[str, Any]


@dataclass(frozen=True)
class RunSummary:
    """What a run or a worker did to its study, read back from the study when it ended. The records it carries
    (``confirmation``, ``stopped``, ``warm_start``) are those stored in the study, as stored; ``to_dict`` is what
    ``--json`` prints."""

    study_name: str
    storage: str  # redacted
    target: int
    finished_before: int
    finished: int
    states: dict[str, int]
    best_value: float | None
    best_trial: int | None
    best_params: dict[str, Any]
    pruned_this_run: int
    seconds: float
    workers: int = 1
    metrics: tuple[str, ...] = ()  # the objectives; several: best_* are None and pareto lists the front
    pareto: tuple[ParetoPoint, ...] = ()
    infeasible: int = 0  # complete trials that break a constraint
    #: Seconds per part of a trial (timing.TIME_PARTS) summed over the trials finished during this command.
    time_s: dict[str, Any] = dataclasses.field(default_factory=dict)
    confirmation: dict[str, Any] | None = None  # the spec's `confirm:` block, run after the search (see confirming)
    confirmation_note: str | None = None  # why this run did not confirm although the spec asks for it
    stopped: dict[str, Any] | None = None  # the noise-floor stop recorded in the study (stopping.line says why)
    warm_start: dict[str, Any] | None = None  # trials copied from another study (warm_start.lines says which)
    hand_rows: int = 0  # finished trials imported from a hand table: they count towards the target, trained nothing

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data, every field by its name (the Pareto points as mappings)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)} | {
            "pareto": [dataclasses.asdict(p) for p in self.pareto]
        }


def finished_and_pruned(study: optuna.Study) -> tuple[int, int]:
    """(finished, pruned) trial counts: where a run starts, for its summary."""
    return count_finished(study), len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))


def summarize(
    study: optuna.Study, *, storage_url: str, target: int, finished_before: int, pruned_before: int, seconds: float
) -> RunSummary:

    since = datetime.datetime.now() - datetime.timedelta(seconds=seconds)  # Optuna stores local, naive times
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state.name for t in trials)
    multi = goals.is_multi(study)
    best = None
    if not multi:  # autotune's own best: hand rows were measured with their own budget
        with contextlib.suppress(TrialNotFoundError):
            best = goals.best_trial(study)
    names = tuple(study.metric_names or [f"objective {i}" for i in range(len(study.directions))])
    front = goals.pareto_front(study) if multi else []
    return RunSummary(
        study_name=study.study_name,
        storage=redact(storage_url),
        target=target,
        finished_before=finished_before,
        finished=states["COMPLETE"] + states["PRUNED"],
        states=dict(sorted(states.items())),
        best_value=best.value if best else None,
        best_trial=best.number if best else None,
        best_params=dict(best.params) if best else {},
        pruned_this_run=states["PRUNED"] - pruned_before,
        seconds=seconds,
        metrics=names,
        pareto=tuple(ParetoPoint(t.number, dict(zip(names, t.values)), dict(t.params)) for t in front),
        infeasible=sum(1 for t in trials if t.state == TrialState.COMPLETE and not goals.feasible(t)),
        time_s=time_totals([t for t in trials if t.datetime_complete is not None and t.datetime_complete >= since]),
        stopped=stopping.stored(study),
        hand_rows=sum(1 for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and goals.by_hand(t)),
    )
