"""The trial an export exports (``ChosenTrial``): the confirmed best, the best by one objective, or a trial by
number, with the words that say why and the confirmation behind it (``ConfirmedChoice``); ``best.yaml`` holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from autotune.errors import OptionError, TrialNotFoundError
from autotune.search import goals
from autotune.search.configs import config_of
from autotune.spec.study import StudySpec


@dataclass(frozen=True)
class ConfirmedChoice:
    """The confirmation behind a chosen trial: its top trials re-trained over the same seeds and ranked by mean."""

    #: The chosen trial (the confirmation's top, or the single-seed best where the two tie)
    trial: int
    #: Its mean metric over the confirmation's seeds
    mean: float
    #: Seeds per confirmed trial
    seeds: int
    #: How many trials the confirmation re-trained
    confirmed: int
    #: The search's best, by its one seed, and that seed's value
    single_seed_best: int
    single_seed_value: float
    #: The confirmation's top where it measured no difference from the single-seed best (a tie), else None
    tie_with: int | None
    #: Complete trials the study gained after it was confirmed
    complete_trials_since: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "mean": self.mean,
            "seeds": self.seeds,
            "confirmed": self.confirmed,
            "single_seed_best": self.single_seed_best,
            "single_seed_value": self.single_seed_value,
            "tie_with": self.tie_with,
            "complete_trials_since": self.complete_trials_since,
        }


@dataclass(frozen=True)
class ChosenTrial:
    """The trial an export exports, as ``best.yaml``/``best.json`` record it."""

    study: str
    trial: int
    #: Why this trial, in words ("confirmed best: …", "--trial 3", …)
    chosen_by: str
    #: The (first) objective's metric and the trial's value of it
    metric: str
    value: float
    #: Every objective's value, by metric
    values: dict[str, float]
    feasible: bool
    constraints: dict[str, Any]
    #: On a multi-objective study's Pareto front (None for one objective)
    on_pareto_front: bool | None
    #: The confirmation behind the choice, None without one (or for a trial chosen by number or objective)
    confirmed: ConfirmedChoice | None
    #: Complete trials gained since the confirmation (0 without one)
    since_confirmation: int
    #: The trial's seed (None for a hand row without one)
    seed: int | None
    #: The sampled parameters, and every parameter resolved (what `replay --config` takes)
    params: dict[str, Any]
    config: dict[str, Any]
    #: The trial's user attributes, less the artifact ids
    user_attrs: dict[str, Any]
    #: The study's spec, as a mapping
    spec: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """What ``best.yaml`` holds, key for key."""
        return {
            "study": self.study,
            "trial": self.trial,
            "chosen_by": self.chosen_by,
            "metric": self.metric,
            "value": self.value,
            "values": self.values,
            "feasible": self.feasible,
            "constraints": self.constraints,
            "on_pareto_front": self.on_pareto_front,
            "confirmed": None if self.confirmed is None else self.confirmed.to_dict(),
            "since_confirmation": self.since_confirmation,
            "seed": self.seed,
            "params": self.params,
            "config": self.config,
            "user_attrs": self.user_attrs,
            "spec": self.spec,
        }


def choose(
    study: optuna.Study, spec: StudySpec, *, trial: int | None = None, objective: str | None = None
) -> ChosenTrial:
    """The trial export writes about: the confirmed best where the study has a confirmation
    (see :func:`confirmed_choice`), else the best (by ``objective`` where there are several), or trial
    number ``trial`` (any complete one, e.g. a Pareto trial the report lists)."""

    if trial is not None and objective is not None:
        raise OptionError("give «trial» N or «objective» K, not both")
    index = goals.objective_index(spec, objective)
    confirmed, since = None, 0  # since: complete trials gained after the confirmation (the one best's only)
    if trial is None and objective is None and not spec.multi_objective:
        best = goals.the_best(study)
        chosen, chosen_by = best.trial, choice_words(best, spec)
        confirmed, since = confirmed_choice(best), best.since_confirmation
    elif trial is None:
        chosen = goals.best_trial(study, index)
        chosen_by = f"best {spec.metrics[index]}" + (" (feasible)" if spec.constraints else "")
    else:
        trials = study.get_trials(deepcopy=False)
        if not 0 <= trial < len(trials):
            raise TrialNotFoundError(
                f"study '{study.study_name}' has no trial {trial}; trials are 0..{len(trials) - 1}"
            )
        chosen = trials[trial]
        if chosen.state != optuna.trial.TrialState.COMPLETE:
            raise TrialNotFoundError(f"trial {trial} is {chosen.state.name.lower()}; export needs a complete trial")
        chosen_by = f"--trial {trial}" + (
            " (a hand row: its value is the hand table's, from its own budget)" if goals.by_hand(chosen) else ""
        )
    front = {t.number for t in goals.pareto_front(study)} if spec.multi_objective else set()
    return ChosenTrial(
        study=study.study_name,
        trial=chosen.number,
        chosen_by=chosen_by,
        metric=spec.metric,
        value=chosen.values[0],
        values=dict(zip(spec.metrics, chosen.values)),
        feasible=goals.feasible(chosen),
        constraints=dict(chosen.constraints),
        on_pareto_front=chosen.number in front if spec.multi_objective else None,
        confirmed=confirmed,
        since_confirmation=since,
        seed=chosen.user_attrs.get("seed"),
        params=dict(chosen.params),
        config=config_of(spec, chosen),
        user_attrs={k: v for k, v in chosen.user_attrs.items() if not k.endswith("_artifact")},
        spec=spec.to_dict(),
    )


def choice_words(best: goals.Best, spec: StudySpec) -> str:
    """Why ``best`` is the best, as export's ``chosen_by`` says it."""
    feasible = " (feasible)" if spec.constraints else ""
    if best.basis == "search":
        return f"best {spec.metric}{feasible} of autotune's trials, one seed each"
    record = best.confirmation
    n, k = record["seeds"], len(record["ranking"])
    if best.basis == "tie":
        return (
            f"best {spec.metric}{feasible} of autotune's trials; the confirmation over {n} seeds found no "
            f"measurable difference from trial {best.tied_with}, so it is kept"
        )
    if best.trial.number == best.search_best.number:
        return f"confirmed best: best mean {spec.metric} over {n} seeds among the top {k} trials"
    return (
        f"confirmed best: the single-seed best, trial {best.search_best.number}, measured worse over {n} seeds "
        f"among the top {k} trials"
    )


def confirmed_choice(best: goals.Best) -> ConfirmedChoice | None:
    """The confirmation behind ``best``, or None without one: the chosen trial and its mean, the seeds and trials
    behind it, the single-seed best, whether the two tie, and how many complete trials the study gained since it
    was confirmed."""
    record = best.confirmation
    if record is None or best.basis == "search":
        return None
    rows = {r["trial"]: r for r in record["ranking"]}
    return ConfirmedChoice(
        trial=best.trial.number,
        mean=rows[best.trial.number]["mean"],
        seeds=record["seeds"],
        confirmed=len(record["ranking"]),
        single_seed_best=best.search_best.number,
        single_seed_value=best.search_best.values[0],
        tie_with=best.tied_with,
        complete_trials_since=best.since_confirmation,
    )
