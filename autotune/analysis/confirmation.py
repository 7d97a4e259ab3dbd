"""Confirmation: the search's top trials re-trained over fresh seeds and ranked by their mean.

A search picks its best trial from one seed per trial, so the winner's value is partly luck.
:func:`confirm` re-trains the top K complete trials (by their stored value) over N seeds that
all of them share and that no trial of the search used, ranks them by their mean, tests every
other trial against the top one with a paired t-test across the shared seeds (Holm-corrected
for the K-1 comparisons), and records the result in the study's user attributes under
``confirmation``. Runs go through :mod:`autotune.storage.replays`, so a configuration already trained
with a seed is read back from the replay store ``<study>:replays``, never trained twice.

:func:`rank` holds the statistics (plain numbers in, plain numbers out); :func:`lines` and
:func:`table` turn a recorded confirmation into the verdict text and its table.
"""

from __future__ import annotations

import functools
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import optuna

from autotune.analysis.stats import ALPHA, MIN_SEEDS_FOR_P, holm, paired_p_value, same_difference, t_quantile
from autotune.base.seeding import derive_seed
from autotune.errors import OptionError
from autotune.hardware.devices import usable_cores
from autotune.hardware.precision import recorded
from autotune.hardware.processes import can_fork, fork_map
from autotune.search import goals
from autotune.search.configs import config_of
from autotune.spec.study import StudySpec
from autotune.storage.optuna_private import release_connections
from autotune.storage.replays import ReplayStore, SeedRun, replay, run_key, seeds_for
from autotune.words import i18n, tables

#: Where a study keeps its latest confirmation (a JSON-ready dict, see :func:`confirm`).
RECORD_KEY = goals.CONFIRMATION_KEY
#: A mean with a spread needs two values; one seed measures nothing that a search did not.
MIN_SEEDS = 2
#: Confirmation seeds come from their own stream: three parts, where a trial's seed has two
#: (:func:`autotune.base.seeding.trial_seed`) and the sampler's four, so none is a seed the search used.
_SEED_STREAM = 0xC0F


def check_options(top: Any, seeds: Any) -> None:
    """``top`` >= 1 and ``seeds`` >= 2, both whole numbers (checked before anything is opened)."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise OptionError(f"«top» must be an integer >= 1 (how many of the best trials to confirm), got {top!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < MIN_SEEDS:
        raise OptionError(
            f"«seeds» must be an integer >= {MIN_SEEDS}, got {seeds!r}: no spread can be measured with one seed"
        )


def confirm_seeds(study_seed: int, n: int) -> list[int]:
    """The ``n`` seeds every confirmed trial is trained with; those of a smaller ``n`` are a prefix, so
    confirming again with more seeds reuses every run already made."""
    return seeds_for(derive_seed(study_seed, _SEED_STREAM, 0), n)


def candidates(study: optuna.Study, spec: StudySpec, top: int) -> tuple[list[optuna.trial.FrozenTrial], list[str]]:
    """The trials to confirm: the single-seed best first, then the next best complete (and feasible) trials
    by stored value, at most ``top``; and a note when the study has fewer. Only autotune's own trials: a hand
    row's value comes from the student's training budget, so ranking it against fresh seeds at the spec's
    budget would compare two protocols (``autotune replay --trial N`` reproduces one at the spec's budget)."""
    if goals.is_multi(study):
        names = ", ".join(study.metric_names or spec.metrics)
        raise OptionError(
            f"confirm ranks trials by one objective, and study '{study.study_name}' has "
            f"{len(study.directions)} ({names}); replay a Pareto trial over seeds with "
            "`autotune replay --trial N --seeds K` instead"
        )
    best = goals.best_trial(study)  # TrialNotFoundError when no complete (feasible) trial exists
    done = goals.complete(study)
    pool = [t for t in done if goals.feasible(t) and not goals.by_hand(t)]
    sign = 1.0 if spec.direction == "maximize" else -1.0
    others = sorted((t for t in pool if t.number != best.number), key=lambda t: (-sign * t.values[0], t.number))
    chosen = [best, *others][:top]
    notes = []
    if len(chosen) < top:  # stored in English; lines() says it in the reader's language (_note)
        which = i18n.say("en", "cf_fewer_constraints" if spec.constraints else "cf_fewer_complete")
        which += i18n.say("en", "cf_fewer_own") if any(goals.by_hand(t) for t in done) else ""
        notes.append(i18n.say("en", "cf_fewer", study=study.study_name, n=len(chosen), top=top, which=which))
    return chosen, notes


def _numbers(numbers: Sequence[int], most: int = 8) -> str:
    shown = ", ".join(map(str, numbers[:most]))
    return shown + (f" and {len(numbers) - most} more" if len(numbers) > most else "")


def rank(
    entries: Sequence[tuple[int, float, Sequence[float | None]]], *, direction: str, alpha: float = ALPHA
) -> dict[str, Any]:
    """Rank trials by their mean over the shared seeds and test each against the top one.

    ``entries``: (trial number, stored single-seed value, one value per shared seed, in seed order;
    None where the run diverged). Returns ``ranking`` (best mean first; a trial with a missing
    value has no mean and comes last), ``best_trial``, ``indistinguishable`` (the trials no test
    tells apart from the top one), ``worse`` (measurably worse: Holm-adjusted paired p <= ``alpha``)
    and ``diverged``. Each ranking row holds ``trial``, ``stored_value``, ``values``, ``mean``,
    ``std``, ``ci95`` (mean ± t(0.975, n-1)·std/√n; None below two values), ``p_value`` (the
    paired t-test against the top, None where none is run), ``p_holm`` and ``versus_top`` (``top``,
    ``worse``, ``indistinguishable``, ``too few seeds``, ``same difference on every seed`` or
    ``diverged``).
    """
    sign = 1.0 if direction == "maximize" else -1.0
    rows = [_summary(trial, stored, list(values)) for trial, stored, values in entries]
    rows.sort(key=lambda r: (r["mean"] is None, -sign * (r["mean"] or 0.0), r["trial"]))
    if not rows:
        return {"ranking": [], "best_trial": None, "indistinguishable": [], "worse": [], "diverged": []}
    top = rows[0]
    if top["mean"] is None:  # every trial diverged on some seed: there is no best mean
        for r in rows:
            r["versus_top"] = "diverged"
        return {
            "ranking": rows,
            "best_trial": None,
            "indistinguishable": [],
            "worse": [],
            "diverged": [r["trial"] for r in rows],
        }
    top["versus_top"] = "top"
    others = rows[1:]
    for r in others:
        if r["mean"] is None:
            r["versus_top"] = "diverged"
        elif len(r["values"]) < MIN_SEEDS_FOR_P:
            r["versus_top"] = "too few seeds"
        elif same_difference(r["values"], top["values"]):
            r["versus_top"] = "same difference on every seed"
        else:
            r["p_value"] = paired_p_value(r["values"], top["values"])
    tested = [r for r in others if r["p_value"] is not None]
    for r, adjusted in zip(tested, holm([r["p_value"] for r in tested], m=len(others))):
        r["p_holm"] = adjusted
        r["versus_top"] = "worse" if adjusted <= alpha else "indistinguishable"
    return {
        "ranking": rows,
        "best_trial": top["trial"],
        "indistinguishable": [r["trial"] for r in others if r["versus_top"] not in ("worse", "diverged")],
        "worse": [r["trial"] for r in others if r["versus_top"] == "worse"],
        "diverged": [r["trial"] for r in others if r["versus_top"] == "diverged"],
    }


def _summary(trial: int, stored: float, values: list[float | None]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trial": trial,
        "stored_value": stored,
        "values": values,
        "mean": None,
        "std": None,
        "ci95": None,
        "p_value": None,
        "p_holm": None,
        "versus_top": None,
    }
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return row
    row["mean"] = statistics.fmean(values)
    if len(values) >= MIN_SEEDS:
        row["std"] = statistics.stdev(values)
        half = t_quantile(0.975, len(values) - 1) * row["std"] / math.sqrt(len(values))
        row["ci95"] = [row["mean"] - half, row["mean"] + half]
    return row


def confirm(
    study: optuna.Study,
    spec: StudySpec,
    chosen: Sequence[optuna.trial.FrozenTrial],
    *,
    seeds: int,
    top: int,
    splits: Any,
    store: ReplayStore | None,
    notes: Sequence[str] = (),
    on_run: Callable[[int, SeedRun], None] | None = None,
    workers: int = 1,
) -> tuple[dict[str, Any], dict[str, int]]:
    """Train every trial of ``chosen`` (see :func:`candidates`) over the shared seeds, reusing ``store``'s
    runs, rank them, record the result as the study's ``confirmation`` user attribute and return it,
    with the count of runs trained and reused. ``workers > 1``: the runs missing from the store are
    trained first in that many forked processes (see :func:`train_missing`)."""

    shared = confirm_seeds(spec.seed, seeds)
    fresh = train_missing(spec, chosen, shared, splits=splits, store=store, workers=workers)
    counts = {"trained": 0, "reused": 0}
    entries = []
    for trial in chosen:

        def seen(run: SeedRun, number: int = trial.number) -> None:
            if (number, run.seed) in fresh:  # trained by this call, in a forked process
                run = replace(run, reused=False)
            counts["reused" if run.reused else "trained"] += 1
            if on_run is not None:
                on_run(number, run)

        result = replay(
            spec,
            config_of(spec, trial),
            seeds=shared,
            splits=splits,
            label=f"trial {trial.number}",
            store=store,
            precision=recorded(trial.user_attrs),
            extra={"source_trial": trial.number, "purpose": "confirmation"},
            on_run=seen,
        )
        entries.append((trial.number, trial.values[0], [getattr(r, spec.metric) for r in result.runs]))
    ranked = rank(entries, direction=spec.direction)
    single = chosen[0].number  # the single-seed best (candidates puts it first)
    row = next(r for r in ranked["ranking"] if r["trial"] == single)
    overstatement = None
    if row["mean"] is not None:
        by = row["stored_value"] - row["mean"] if spec.direction == "maximize" else row["mean"] - row["stored_value"]
        overstatement = {
            "trial": single,
            "stored_value": row["stored_value"],
            "mean": row["mean"],
            "by": by,
            "ci95": row["ci95"],
        }
    done = goals.complete(study)
    record = {
        "study": study.study_name,
        "metric": spec.metric,
        "direction": spec.direction,
        "top": top,
        "seeds": seeds,
        "seed_list": shared,
        "epochs": spec.max_epochs,
        "train_subset": spec.train_subset,
        "own_trials": sum(1 for t in done if not goals.by_hand(t)),  # autotune's; no hand rows
        "hand_rows": [t.number for t in done if goals.by_hand(t)],  # never confirmed (lines says)
        "complete_trials": len(done),
        "single_seed_best": single,
        **ranked,
        "overstatement": overstatement,
        "alpha": ALPHA,
        "test": (
            None
            if seeds < MIN_SEEDS_FOR_P
            else f"two-sided paired t-test across the {seeds} shared seeds against the top trial, "
            f"Holm-corrected for {max(len(chosen) - 1, 0)} comparison(s)"
        ),
        "notes": list(notes),
    }
    study.set_user_attr(RECORD_KEY, record)
    return record, counts


def train_missing(
    spec: StudySpec,
    chosen: Sequence[optuna.trial.FrozenTrial],
    shared: Sequence[int],
    *,
    splits: Any,
    store: ReplayStore | None,
    workers: int,
) -> set[tuple[int, int]]:
    """Train the runs of ``chosen`` × ``shared`` that ``store`` lacks in ``workers`` processes forked from this
    one, into the store, and return their (trial, seed) pairs. Only where a forked run is the run this
    process would train: one torch thread here (the trials' own count, which replays use), the store there
    to take the runs, and at least two runs to share; otherwise nothing is trained here and
    :func:`confirm` trains the runs one after another."""
    import torch

    workers = min(workers, usable_cores())
    if workers < 2 or store is None or torch.get_num_threads() != 1 or not can_fork("cpu", 1):
        return set()
    jobs = []
    for trial in chosen:
        config, precision = config_of(spec, trial), recorded(trial.user_attrs)
        jobs += [
            (trial.number, config, seed, precision)
            for seed in shared
            if store.get(run_key(spec, config, seed=seed, epochs=spec.max_epochs, precision=precision)) is None
        ]
    if len(jobs) < 2:
        return set()
    release_connections(store.study)  # each process opens its own
    fork_map(partial(_train_one, spec, splits, store), jobs, workers)
    store.refresh()
    return {(number, seed) for number, _, seed, _ in jobs}


def _train_one(spec: StudySpec, splits: Any, store: ReplayStore, job: tuple[int, dict[str, Any], int, str]) -> None:
    number, config, seed, precision = job
    replay(
        spec,
        config,
        seeds=[seed],
        splits=splits,
        label=f"trial {number}",
        store=store,
        precision=precision,
        extra={"source_trial": number, "purpose": "confirmation"},
    )


def stored(study: optuna.Study) -> dict[str, Any] | None:
    """The study's recorded confirmation (what :func:`confirm` wrote), or None if it has none."""
    record = study.user_attrs.get(RECORD_KEY)
    return record if isinstance(record, dict) and isinstance(record.get("ranking"), list) else None


# --------------------------------------------------------------------------------------
# Text


_FEWER = re.compile(
    r"study '(?P<study>.+)' has (?P<n>\d+) complete trial\(s\)(?P<constraints> that meet its "
    r"constraints)?(?P<own> of autotune's own)?, fewer than the (?P<top>\d+) asked for: confirming "
    r"those \d+"
)


def _note(note: str, lang: str) -> str:
    """A stored note (English, as :func:`candidates` wrote it) in ``lang``; one it does not know stays as it is."""
    match = _FEWER.fullmatch(note)
    if lang == "en" or match is None:
        return note
    which = i18n.say(lang, "cf_fewer_constraints" if match["constraints"] else "cf_fewer_complete")
    return i18n.say(
        lang,
        "cf_fewer",
        study=match["study"],
        n=match["n"],
        top=match["top"],
        which=which + (i18n.say(lang, "cf_fewer_own") if match["own"] else ""),
    )


def _value(record: dict[str, Any], value: float) -> str:
    return f"{value * 100:.2f}%" if record["metric"] == "val_accuracy" else f"{value:.4g}"


def _diff(record: dict[str, Any], value: float, lang: str = "en") -> str:
    return f"{value * 100:.2f} {i18n.points(lang)}" if record["metric"] == "val_accuracy" else f"{value:.4g}"


def _ci(record: dict[str, Any], ci: list[float] | None) -> str:
    return "-" if ci is None else f"[{_value(record, ci[0])}, {_value(record, ci[1])}]"


def interval(record: dict[str, Any], row: dict[str, Any]) -> str:
    """A ranking row's 95% interval as printed (``[95.40%, 97.40%]``, or ``-`` without one)."""
    return _ci(record, row["ci95"])


def _trials(rows: list[dict[str, Any]], key: str | None = None, lang: str = "en") -> str:
    def one(r: dict[str, Any]) -> str:
        return str(r["trial"]) if key is None or r[key] is None else f"{r['trial']} (p={r[key]:.3g})"

    return i18n.say(lang, "sep").join(one(r) for r in rows)


def table_parts(record: dict[str, Any], lang: str = "en") -> tuple[list[str], list[list[Any]]]:
    """The ranking's table heads and rows: stored value, mean ± std, 95% interval, per-seed values, p-values."""

    say = functools.partial(i18n.say, lang)
    n, pct = record["seeds"], record["metric"] == "val_accuracy"
    heads = [
        say("cf_h_rank"),
        say("cf_h_trial"),
        say("cf_h_search"),
        say("cf_h_mean", n=n),
        say("cf_h_ci"),
        say("cf_h_seeds"),
        say("cf_h_p"),
        say("cf_h_versus"),
    ]
    body = []
    for i, r in enumerate(record["ranking"], 1):
        p = "-" if r["p_value"] is None else f"{r['p_value']:.3g} ({r['p_holm']:.3g})"
        body.append(
            [
                i,
                r["trial"],
                _value(record, r["stored_value"]),
                tables.mean_std(r["mean"], r["std"], percent=pct),
                _ci(record, r["ci95"]),
                ", ".join("-" if v is None else _value(record, v) for v in r["values"]),
                p,
                say("cf_v_" + r["versus_top"].replace(" ", "_")) if r["versus_top"] else "-",
            ]
        )
    return heads, body


def table(record: dict[str, Any], lang: str = "en") -> str:
    """The ranking as a Markdown table (:func:`table_parts`)."""

    return tables.markdown(*table_parts(record, lang))


def lines(record: Any, lang: str = "en") -> list[str]:
    """What a confirmation shows, each sentence with the number of seeds behind it. ``record``: what
    :func:`stored` returns (or an :class:`autotune.execution.confirming.ConfirmResult`)."""
    say = functools.partial(i18n.say, lang)
    record = getattr(record, "record", record)
    n, metric, rows = record["seeds"], record["metric"], record["ranking"]
    by_trial = {r["trial"]: r for r in rows}
    study = say("cf_study", study=record["study"]) if record.get("study") else ""
    seeds = f" ({', '.join(map(str, record['seed_list']))})" if record.get("seed_list") else ""
    subset = say("abl_subset", n=record["train_subset"]) if record.get("train_subset") else ""
    budget = say("cf_run_budget", epochs=record["epochs"], subset=subset) if record.get("epochs") else ""
    out = [
        say(
            "cf_intro",
            k=len(rows),
            complete=record.get("own_trials", record["complete_trials"]),
            metric=metric,
            n=n,
            study=study,
            seeds=seeds,
            budget=budget,
        )
    ]
    out += [say("cf_note", note=_note(note, lang)) for note in record.get("notes", [])]
    hand = record.get("hand_rows") or []
    if hand:
        out.append(say("cf_hand", n=len(hand), trials=_numbers(hand)))
    best = record["best_trial"]
    single = record["single_seed_best"]
    if best is None:
        return out + [say("cf_all_diverged", n=n)]
    top = by_trial[best]
    spread = "" if top["std"] is None else f" ± {_value(record, top['std'])}"
    where = say("cf_where", metric=metric, mean=_value(record, top["mean"]), spread=spread, ci=_ci(record, top["ci95"]))
    if best == single:
        out.append(say("cf_keeps", best=best, n=n, where=where))
    else:
        rank_of_single = [r["trial"] for r in rows].index(single) + 1
        s = by_trial[single]
        seen = say("cf_diverged_seed") if s["mean"] is None else say("cf_mean", mean=_value(record, s["mean"]))
        if s["mean"] == top["mean"]:  # equal means: the order between them is only the trial numbers'
            out.append(say("cf_same_mean", best=best, single=single, n=n, where=where))
        else:
            out.append(
                say(
                    "cf_new_best",
                    best=best,
                    n=n,
                    where=where,
                    single=single,
                    rank=rank_of_single,
                    k=len(rows),
                    seen=seen,
                )
            )
    others = [r for r in rows if r["trial"] != best]
    if not others:
        out.append(say("cf_one"))
    elif n < MIN_SEEDS_FOR_P:
        untested = [r for r in others if r["versus_top"] == "too few seeds"]
        if untested:
            out.append(say("cf_no_test", n=n, min=MIN_SEEDS_FOR_P, trials=_trials(untested, lang=lang), best=best))
    else:
        same = [r for r in others if r["versus_top"] == "indistinguishable"]
        flat = [r for r in others if r["versus_top"] == "same difference on every seed"]
        worse = [r for r in others if r["versus_top"] == "worse"]
        test = say("cf_test", n=n, m=len(others))
        if same:
            out.append(
                say(
                    "cf_same",
                    best=best,
                    n=n,
                    test=test,
                    alpha=f"{record['alpha']:g}",
                    trials=_trials(same, "p_holm", lang),
                )
            )
        if flat:
            out.append(say("cf_flat", trials=_trials(flat, lang=lang), best=best, n=n))
        if worse:
            out.append(
                say(
                    "cf_worse",
                    best=best,
                    n=n,
                    test=test,
                    alpha=f"{record['alpha']:g}",
                    trials=_trials(worse, "p_holm", lang),
                )
            )
    diverged = [r for r in others if r["versus_top"] == "diverged"]
    if diverged:
        out.append(say("cf_diverged", n=n, trials=_trials(diverged, lang=lang)))
    if others and all(
        r["versus_top"] in ("indistinguishable", "too few seeds", "same difference on every seed") for r in others
    ):
        out.append(say("cf_budget", k=len(rows), n=n, epochs=record.get("epochs", "?")))
    if best != single:  # which trial the commands now call the best (goals.the_best's rule)
        out.append(
            say(
                "cf_choice_new" if goals.measured_worse(record, single) else "cf_choice_tie",
                best=best,
                single=single,
                n=n,
            )
        )
    over = record.get("overstatement")
    if over is not None:
        inside = over["ci95"] is not None and over["ci95"][0] <= over["stored_value"] <= over["ci95"][1]
        verb = say("cf_over") if over["by"] > 0 else say("cf_under") if over["by"] < 0 else say("cf_matched")
        amount = "" if over["by"] == 0 else say("cf_by", by=_diff(record, abs(over["by"]), lang))
        out.append(
            say(
                "cf_overstatement",
                trial=over["trial"],
                verb=verb,
                amount=amount,
                stored=_value(record, over["stored_value"]),
                mean=_value(record, over["mean"]),
                n=n,
                inside=say("cf_inside" if inside else "cf_outside"),
                ci=_ci(record, over["ci95"]),
            )
        )
    return out
