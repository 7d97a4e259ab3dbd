"""Replays: exact re-runs of a configuration over one or more seeds, recorded so they are never paid twice.

A replay trains one configuration with :func:`autotune.training.loop.fit` (no pruning) once per seed and
records every seed's run in a companion study ``<study>:replays`` in the same storage, keyed by
spec, configuration, seed and epochs, so that ablations, sweeps and later replays reuse runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna

from autotune.base.seeding import derive_seed
from autotune.errors import OptionError, TrialNotFoundError
from autotune.search import goals
from autotune.search.goals import measure
from autotune.spec.study import StudySpec
from autotune.storage.studies import REPLAYS_SUFFIX
from autotune.words.figures import value_text

METRIC_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class SeedRun:
    seed: int
    train_loss: float | None
    train_accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    epochs: int
    seconds: float
    diverged: bool
    reused: bool = False
    n_params: int | None = None
    latency_ms: float | None = None  # measured only where the spec's objectives or constraints use it
    precision: str = "fp32"  # what the run trained in (runs recorded before precisions existed: fp32)
    step: str = "plain"  # how its training steps were computed (runs recorded before steps existed: plain)
    batch: list[int] | None = None  # the seeds it was trained with at once, in order (None: on its own)


#: SeedRun fields under a name other than the metric's
_RUN_FIELDS = {"train_seconds": "seconds", "params": "n_params"}


@dataclass
class Replay:
    """One configuration over several seeds."""

    label: str
    config: dict[str, Any]
    runs: list[SeedRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def values(self, key: str) -> list[float]:
        """One value per seed of a SeedRun field or an objective metric (``train_seconds``, ``params``...)."""
        key = _RUN_FIELDS.get(key, key)
        return [getattr(r, key) for r in self.runs if getattr(r, key, None) is not None]

    def mean(self, key: str) -> float | None:
        vals = self.values(key)
        return statistics.fmean(vals) if vals else None

    def std(self, key: str) -> float | None:
        """The seed-to-seed standard deviation; None below two seeds, where there is no spread to measure."""
        vals = self.values(key)
        return statistics.stdev(vals) if len(vals) > 1 else None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "config": self.config,
            "notes": self.notes,
            "runs": [r.__dict__ for r in self.runs],
        }
        for key in (*METRIC_KEYS, "seconds"):
            out[key] = {"mean": self.mean(key), "std": self.std(key)}
        return out


def check_seeds(k: Any) -> int:
    """``k`` if it is a count of seeds, an integer >= 1: the one check of ``export``, ``replay``, ``ablate`` and
    ``sweep``'s ``seeds``."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise OptionError(f"«seeds» must be an integer >= 1, got {k!r}")
    return k


def batch_of(spec: StudySpec, seeds: Sequence[int]) -> list[int] | None:
    """The seeds that train at once as one batched model (:mod:`autotune.training.seed_batch`): all of them, in
    order, where the spec's ``batch_seeds`` asks for it and there are two or more; else None (one after another)."""
    return list(seeds) if spec.batch_seeds and len(seeds) > 1 else None


def seeds_for(first: int, k: int) -> list[int]:
    """``k`` seeds (checked by :func:`check_seeds`): ``first`` (e.g. the trial's own), then seeds derived from it."""
    return [first] + [derive_seed(first, i) for i in range(1, check_seeds(k))]


class ReplayStore:
    """Replays recorded in the companion study ``<study>:replays`` of the same storage."""

    def __init__(self, storage: Any, study_name: str) -> None:
        self.study = optuna.create_study(
            storage=storage, study_name=f"{study_name}{REPLAYS_SUFFIX}", direction="maximize", load_if_exists=True
        )
        self.refresh()

    def refresh(self) -> None:
        """Read the recorded runs again (other processes may have added some)."""
        self._by_key = {t.user_attrs.get("key"): t for t in self.study.get_trials(deepcopy=False)}

    def get(self, key: str) -> SeedRun | None:
        trial = self._by_key.get(key)
        if trial is None:
            return None
        return SeedRun(**{**trial.user_attrs["run"], "reused": True})

    def put(self, key: str, run: SeedRun, *, config: dict[str, Any], extra: dict[str, Any]) -> None:
        value = run.val_accuracy if run.val_accuracy is not None else (run.val_loss or 0.0)
        trial = optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE,
            value=value if math.isfinite(value) else 0.0,
            user_attrs={"key": key, "run": run.__dict__, "config": config, **extra},
        )
        self.study.add_trial(trial)
        self._by_key[key] = trial


def replay(
    spec: StudySpec,
    config: dict[str, Any],
    *,
    seeds: Sequence[int],
    epochs: int | None = None,
    splits: Any,
    label: str = "",
    store: ReplayStore | None = None,
    extra: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
    on_run: Callable[[SeedRun], None] | None = None,
    precision: str = "fp32",
    step: str = "plain",
) -> Replay:
    """Train ``config`` once per seed (no pruning) in ``precision`` (``fp32`` or ``bf16``; a stored trial's
    own, see :func:`autotune.hardware.precision.recorded`) with the training ``step`` (``plain`` or ``fused``;
    likewise the trial's own, :func:`autotune.hardware.steps.recorded_step`); reuse runs already recorded in
    ``store``. With the spec's ``batch_seeds`` and more than one seed, the seeds train at once as one batched model
    (:mod:`autotune.training.seed_batch`), each run recording the batch, and only runs batched the same way are
    reused."""
    # imported here, not at the top: keeps torch off the import of this module
    from autotune.training.loop import fit
    from autotune.training.seed_batch import fit_seeds

    max_epochs = epochs or spec.max_epochs
    out = Replay(label=label, config=config, notes=list(notes))
    batch = batch_of(spec, seeds)
    keys = {
        s: run_key(spec, config, seed=s, epochs=max_epochs, precision=precision, step=step, batch=batch) for s in seeds
    }
    stored = {s: store.get(key) if store is not None else None for s, key in keys.items()}
    if batch is not None and None in stored.values():  # the K seeds train at once, or not at all
        start = time.perf_counter()
        results = fit_seeds(
            config, splits, family=spec.model, max_epochs=max_epochs, seeds=batch, precision=precision, step=step
        )
        seconds = round((time.perf_counter() - start) / len(batch), 3)  # each seed's share of the batch's time
        for seed, result in zip(batch, results, strict=True):
            if stored[seed] is None:
                stored[seed] = _record(
                    spec, config, seed, result, seconds, splits, precision, step, batch, store, keys[seed], extra
                )
    for seed in seeds:
        run = stored[seed]
        if run is None:
            start = time.perf_counter()
            result = fit(
                config, splits, family=spec.model, max_epochs=max_epochs, seed=seed, precision=precision, step=step
            )
            seconds = round(time.perf_counter() - start, 3)
            run = _record(spec, config, seed, result, seconds, splits, precision, step, None, store, keys[seed], extra)
        out.runs.append(run)
        if on_run is not None:
            on_run(run)
    return out


def _record(
    spec: StudySpec,
    config: dict[str, Any],
    seed: int,
    result: Any,
    seconds: float,
    splits: Any,
    precision: str,
    step: str,
    batch: list[int] | None,
    store: ReplayStore | None,
    key: str,
    extra: dict[str, Any] | None,
) -> SeedRun:
    """One seed's trained run (a :class:`autotune.training.loop.FitResult`) as a :class:`SeedRun`, recorded in
    ``store`` under ``key``."""
    last = result.last
    assert last is not None
    latency = None
    if spec.needs("latency_ms"):
        latency = measure(spec, result, splits, precision=precision)["latency_ms"]
    run = SeedRun(
        seed=seed,
        train_loss=_finite(last.train_loss),
        train_accuracy=last.train_accuracy,
        val_loss=_finite(last.val_loss),
        val_accuracy=last.val_accuracy,
        epochs=last.epoch,
        seconds=seconds,
        diverged=result.diverged,
        n_params=result.n_params,
        latency_ms=latency,
        precision=precision,
        step=step,
        batch=batch,
    )
    if store is not None:
        store.put(key, run, config=config, extra=extra or {})
    return run


def run_key(
    spec: StudySpec,
    config: dict[str, Any],
    *,
    seed: int,
    epochs: int,
    precision: str = "fp32",
    step: str = "plain",
    batch: Sequence[int] | None = None,
) -> str:
    """The replay store's key of one run; an fp32 run with the plain step, trained on its own, keeps the key it
    had before precisions, steps and seed batches existed. A seed-batched run's key holds its batch (the seeds in
    order): it is reused only by a run batched the same way."""
    fields = {"spec": spec.fingerprint(), "config": config, "seed": seed, "epochs": epochs}
    if precision != "fp32":
        fields["precision"] = precision
    if step != "plain":
        fields["step"] = step
    if batch is not None:
        fields["batch"] = list(batch)
    blob = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _same(mine: Any, stored: Any) -> bool:
    """Whether a replayed figure is the stored one: equal, or both absent or not finite (a diverged run's loss)."""
    if mine is None or stored is None or not all(map(math.isfinite, (mine, stored))):
        missing = [v is None or not math.isfinite(v) for v in (mine, stored)]
        return missing[0] == missing[1]
    return mine == stored


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def resolve_trial(study: optuna.Study, which: str) -> tuple[optuna.trial.FrozenTrial, list[str]]:
    """``best`` or a trial number → (trial, notes). Pruned and failed trials are allowed but noted.

    In a multi-objective study ``best`` is the best feasible trial by the first objective (noted).
    """

    if which == "best":
        if goals.is_multi(study):
            first = (study.metric_names or ["the first objective"])[0]
            return goals.best_trial(study, 0), [
                f"'best' in a multi-objective study is the best feasible trial by "
                f"{first}; pick any Pareto trial with --trial N"
            ]
        best = goals.the_best(study)  # the one best every command means
        return best.trial, [best_note(best)]
    try:
        number = int(which)
    except ValueError:
        raise OptionError(f"«trial» must be a trial number or 'best', got '{which}'") from None
    trials = study.get_trials(deepcopy=False)
    if not 0 <= number < len(trials):
        raise TrialNotFoundError(f"study '{study.study_name}' has no trial {number}; trials are 0..{len(trials) - 1}")
    trial = trials[number]
    notes = []
    if goals.by_hand(trial):
        accuracy = trial.user_attrs.get("val_accuracy")
        figure = (
            f" (validation accuracy {value_text('val_accuracy', accuracy)})"
            if isinstance(accuracy, (int, float))
            else ""
        )
        notes.append(
            f"trial {number} is a hand row: its result{figure} is the hand table's, by hand with their own "
            "training budget; this replay is autotune's reproduction at the spec's budget, a different "
            "protocol"
        )
    if trial.state != optuna.trial.TrialState.COMPLETE:
        notes.append(
            f"trial {number} is {trial.state.name.lower()}: replaying the parameters it had, "
            f"trained for the full budget"
        )
    return trial, notes


def best_note(best: Any) -> str:
    """Which trial 'best' is and why (a :class:`autotune.search.goals.Best`), in one phrase."""
    number = best.trial.number
    if best.basis == "search":
        return f"'best' is trial {number}, the search's best of autotune's trials (one seed each)"
    n = best.confirmation["seeds"]
    if best.basis == "tie":
        return (
            f"'best' is trial {number}, the search's best: the confirmation over {n} seeds measured no difference "
            f"from trial {best.tied_with} (a tie keeps the search's best)"
        )
    if number == best.search_best.number:
        return f"'best' is trial {number}, the search's best, kept by the confirmation over {n} seeds"
    return (
        f"'best' is trial {number}, the confirmed best: the confirmation over {n} seeds measured the search's "
        f"best, trial {best.search_best.number}, worse"
    )


def reproduction(
    spec: StudySpec, trial: optuna.trial.FrozenTrial | None, result: Replay, *, overridden: bool, epochs: int | None
) -> str | None:
    """Whether a replay reproduced the stored trial's metric exactly (only when the comparison is fair); for a hand
    row, its value and the reproduction side by side, each under its own protocol."""

    if trial is not None and goals.by_hand(trial) and trial.values and not overridden:
        got = result.mean(spec.metric)
        if got is None:
            return None
        n = len(result.runs)
        return (
            f"{spec.metric} by hand (their budget): {value_text(spec.metric, trial.values[0])}; reproduced here "
            f"({result.runs[0].epochs} epoch(s)"
            f"{f', {spec.train_subset} training examples' if spec.train_subset else ''}, "
            f"{n} seed{'s' if n > 1 else ''}): {value_text(spec.metric, got)}. "
            "Measured under two protocols (the table's budget and "
            "the spec's), so they are not compared as one configuration's seeds."
        )
    if trial is None or overridden or trial.state != optuna.trial.TrialState.COMPLETE:
        return None
    if epochs not in (None, trial.user_attrs.get("epochs")) or result.runs[0].seed != trial.user_attrs.get("seed"):
        return None
    batch = result.runs[0].batch
    if batch is not None:  # another protocol than the trial's own run: no verdict either way
        return (
            f"Not compared with trial {trial.number}'s stored value: seeds {', '.join(map(str, batch))} were trained "
            "at once as one batched model, whose dropout masks are drawn for the batch as a whole (and whose sums may "
            "differ in the last bits); --seeds-one-by-one (batch_seeds=False) reproduces the trial itself, and the "
            "same batch reproduces this replay."
        )
    stored = trial.user_attrs.get(spec.metric)
    got = getattr(result.runs[0], spec.metric)
    # the metric alone can agree by chance (an accuracy is a count): every figure the trial stored must agree too
    other = next(
        (
            (key, getattr(result.runs[0], key), trial.user_attrs[key])
            for key in METRIC_KEYS
            if key != spec.metric and not _same(getattr(result.runs[0], key), trial.user_attrs.get(key))
        ),
        None,
    )
    if got == stored and other is None:
        return f"Reproduced exactly: {spec.metric} {got!r} equals the stored value of trial {trial.number}."
    if got == stored and other is not None:
        key, mine, theirs = other
        return (
            f"NOT reproduced: {spec.metric} {got!r} equals the stored value of trial {trial.number}, but {key} "
            f"{mine!r} differs from the stored {theirs!r} (different threads, device, CPU, library versions or "
            "training step change floating-point results)."
        )
    return (
        f"NOT reproduced: {spec.metric} {got!r} differs from the stored {stored!r} of trial {trial.number} "
        f"(different threads, device, CPU or library versions change floating-point results)."
    )
