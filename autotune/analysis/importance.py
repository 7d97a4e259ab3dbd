"""Hyperparameter importance: Optuna's evaluators over several evaluator seeds, and a bootstrap over trials.

The bootstrap answers "how much would this ranking move with other trials like these?": the complete
trials are resampled with replacement ``BOOTSTRAP_ROUNDS`` times (fixed seed, so a report is
reproducible), the importance is recomputed on each resample (an in-memory study holding copies of the
drawn trials), and the 2.5–97.5 percentiles of those values are the interval. Only PED-ANOVA is
resampled: its 30 runs add about 0.5 s of CPU to ``autotune report`` on a digits study of 20 or 100
trials (7–9 s), where fANOVA's, a random forest each, would add 5–7 s and nearly double it (numbers in
docs/commands-results.md); fANOVA's spread over evaluator seeds is shown instead. Fewer resamples would not do:
the 2.5th percentile of 10 values is little more than their minimum. Numbers only; no drawing or
sentences here.
"""

from __future__ import annotations

import itertools
import statistics
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from autotune.search import goals

#: fANOVA's evaluator seeds: the table shows its mean ± std over them.
IMPORTANCE_SEEDS = (0, 1, 2)
#: Resamples of the complete trials behind each interval, and the seed that draws them.
BOOTSTRAP_ROUNDS = 30
BOOTSTRAP_SEED = 0
#: Below this many complete trials no interval is printed: a resample holds only about two thirds of the
#: trials once each, and over so few the percentiles mostly say which one or two trials were drawn.
MIN_TRIALS_FOR_INTERVAL = 10
#: The evaluators the bootstrap resamples (keys of :func:`importances`' result).
BOOTSTRAPPED = ("default",)
#: The percentiles of the resampled values that bound an interval.
PERCENTILES = (2.5, 97.5)

_ERRORS = (ValueError, RuntimeError, ZeroDivisionError)


def _evaluators(seeds: tuple[int, ...]) -> dict[str, list[Callable[[], Any]]]:
    return {
        "default": [lambda: optuna.importance.PedAnovaImportanceEvaluator()],
        "fanova": [lambda s=s: optuna.importance.FanovaImportanceEvaluator(seed=s) for s in seeds],
    }


def importances(
    study: optuna.Study,
    seeds: tuple[int, ...] = IMPORTANCE_SEEDS,
    *,
    objective: int | None = None,
    rounds: int = BOOTSTRAP_ROUNDS,
) -> dict[str, Any]:
    """Optuna's default evaluator (PED-ANOVA in Optuna 5, deterministic) and fANOVA over several
    evaluator seeds: mean and std per parameter, largest first (ties by name: Optuna's order of tied parameters
    varies between processes); ``{"error": ...}`` when it cannot run.
    ``objective``: which objective of a multi-objective study (its trials' ``values[objective]``).

    Each parameter of a :data:`BOOTSTRAPPED` evaluator also has ``"interval"``: ``[low, high]`` from
    :func:`bootstrap` over ``rounds`` resamples, or None (fewer than :data:`MIN_TRIALS_FOR_INTERVAL`
    complete trials, or a resample it could not evaluate)."""
    target = _target(study, objective)
    out: dict[str, Any] = {}
    for name, makers in _evaluators(seeds).items():
        runs: dict[str, list[float]] = defaultdict(list)
        try:
            for make in makers:
                for param, value in _evaluate(study, make(), target).items():
                    runs[param].append(value)
        except _ERRORS as exc:
            out[name] = {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
            continue
        if not runs:
            out[name] = {"error": "not enough complete trials"}
            continue
        out[name] = {
            p: {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else None}
            for p, v in sorted(runs.items(), key=lambda kv: (-statistics.fmean(kv[1]), kv[0]))
        }
        if name in BOOTSTRAPPED:
            intervals = bootstrap(study, makers[0], objective=objective, rounds=rounds)
            for param, entry in out[name].items():
                entry["interval"] = None if intervals is None else intervals.get(param)
    return out


def bootstrap(
    study: optuna.Study,
    make: Callable[[], Any],
    *,
    objective: int | None = None,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, list[float]] | None:
    """Parameter -> ``[low, high]``, the :data:`PERCENTILES` of its importance by the evaluator ``make()``
    over ``rounds`` resamples (with replacement) of the complete trials; None below
    :data:`MIN_TRIALS_FOR_INTERVAL` complete trials or where a resample cannot be evaluated. A parameter
    that no trial of a resample has counts 0 there (it explains nothing of it)."""
    trials = goals.complete(study)
    if len(trials) < MIN_TRIALS_FOR_INTERVAL:
        return None
    params = {p for t in trials for p in t.params}
    values: dict[str, list[float]] = {p: [] for p in params}
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # not one "A new study created in memory" per resample
    try:
        for drawn in resamples(len(trials), rounds=rounds, seed=seed):
            copy = optuna.create_study(directions=study.directions)
            copy.add_trials([trials[i] for i in drawn])
            result = _evaluate(copy, make(), _target(study, objective))
            for p in params:
                values[p].append(result.get(p, 0.0))
    except _ERRORS:
        return None
    finally:
        optuna.logging.set_verbosity(verbosity)
    return {p: percentile_interval(v) for p, v in values.items()}


def resamples(n: int, *, rounds: int, seed: int = BOOTSTRAP_SEED) -> list[list[int]]:
    """``rounds`` lists of ``n`` indices into ``n`` trials, drawn with replacement; the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, size=n).tolist() for _ in range(rounds)]


def percentile_interval(values: list[float], percentiles: tuple[float, float] = PERCENTILES) -> list[float]:
    """The ``percentiles`` of ``values`` (linear interpolation between order statistics, numpy's default)."""
    low, high = np.percentile(np.asarray(values, dtype=float), percentiles)
    return [float(low), float(high)]


def overlapping(ranked: list[tuple[str, list[float] | None]]) -> list[tuple[int, str, str]]:
    """For parameters in rank order with their intervals: ``(k, k-th, (k+1)-th)`` (k from 1) for each pair
    of neighbours whose intervals overlap (share at least one value); pairs without two intervals are left out."""
    pairs = []
    for k, ((a, ia), (b, ib)) in enumerate(itertools.pairwise(ranked), start=1):
        if ia is not None and ib is not None and ia[0] <= ib[1] and ib[0] <= ia[1]:
            pairs.append((k, a, b))
    return pairs


def _target(study: optuna.Study, objective: int | None) -> Callable[[optuna.trial.FrozenTrial], float] | None:
    """What the evaluators rank by. Given a ``target``, PED-ANOVA takes lower as better, so a maximised
    objective is negated (fANOVA decomposes variance, for which the sign does not matter)."""
    if objective is None:
        return None
    if study.directions[objective] == optuna.study.StudyDirection.MAXIMIZE:
        return lambda t, i=objective: -t.values[i]
    return lambda t, i=objective: t.values[i]


def _evaluate(study: optuna.Study, evaluator: Any, target: Any) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = optuna.importance.get_param_importances(study, evaluator=evaluator, target=target)
    return {param: float(value) for param, value in result.items()}
