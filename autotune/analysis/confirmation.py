"""Confirmation: the search's top trials re-trained over fresh seeds and ranked by their mean.

A search picks its best trial from one seed per trial, so the winner's value is partly luck.
:func:`confirm` re-trains the top K complete trials (by their stored value) over N seeds that
all of them share and that no trial of the search used, ranks them by their mean, tests every
other trial against the top one with a paired t-test across the shared seeds (Holm-corrected
for the K-1 comparisons), and records the result in the study's user attributes under
``confirmation``. Runs go through :mod:`autotune.storage.replays`, so a configuration already trained
with a seed is read back from the replay store ``<study>:replays``, never trained twice.

Here: which trials (:func:`candidates`), the confirmation itself (:func:`confirm`), and what it says
(:func:`lines` and :func:`table` turn a recorded confirmation into the verdict text and its table). The statistics
are :mod:`autotune.analysis.seed_ranking` (plain numbers in, plain numbers out), the seeds and the forked runs
:mod:`autotune.analysis.confirmation_runs`, the words both texts share :mod:`autotune.analysis.confirmation_words`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import optuna

from autotune.analysis.confirmation_runs import confirm_seeds, train_missing
from autotune.analysis.confirmation_words import (
    ci_text,
    difference,
    fewer_note,
    in_units,
    note_in,
    number_list,
    trial_list,
    versus_word,
)
from autotune.analysis.seed_ranking import MIN_SEEDS, rank
from autotune.analysis.stats import ALPHA, MIN_SEEDS_FOR_P
from autotune.errors import OptionError
from autotune.hardware.precision import recorded
from autotune.hardware.steps import recorded_step
from autotune.search import goals
from autotune.search.configs import config_of
from autotune.spec.study import StudySpec
from autotune.storage.replays import ReplayStore, SeedRun, batch_of, replay
from autotune.words import i18n, tables

#: Where a study keeps its latest confirmation (a JSON-ready dict, see :func:`confirm`).
RECORD_KEY = goals.CONFIRMATION_KEY


def check_options(top: Any, seeds: Any) -> None:
    """``top`` >= 1 and ``seeds`` >= 2, both whole numbers (checked before anything is opened)."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise OptionError(f"«top» must be an integer >= 1 (how many of the best trials to confirm), got {top!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < MIN_SEEDS:
        raise OptionError(
            f"«seeds» must be an integer >= {MIN_SEEDS}, got {seeds!r}: no spread can be measured with one seed"
        )


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
    if len(chosen) < top:  # stored in English; lines() says it in the reader's language (note_in)
        own = any(goals.by_hand(t) for t in done)
        notes.append(
            fewer_note(
                "en", study=study.study_name, n=len(chosen), top=top, constraints=bool(spec.constraints), own=own
            )
        )
    return chosen, notes


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
    trained first in that many forked processes (see :func:`autotune.analysis.confirmation_runs.train_missing`)."""

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
            step=recorded_step(trial.user_attrs),
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
        "batched": batch_of(spec, shared) is not None,  # each trial's seeds trained at once (seed_batch)
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


def stored(study: optuna.Study) -> dict[str, Any] | None:
    """The study's recorded confirmation (what :func:`confirm` wrote), or None if it has none."""
    record = study.user_attrs.get(RECORD_KEY)
    return record if isinstance(record, dict) and isinstance(record.get("ranking"), list) else None


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
                in_units(record, r["stored_value"]),
                tables.mean_std(r["mean"], r["std"], percent=pct),
                ci_text(record, r["ci95"]),
                ", ".join("-" if v is None else in_units(record, v) for v in r["values"]),
                p,
                versus_word(r["versus_top"], lang),
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
    if record.get("batched"):
        out.append(say("cf_batched", n=n))
    out += [say("cf_note", note=note_in(note, lang)) for note in record.get("notes", [])]
    hand = record.get("hand_rows") or []
    if hand:
        out.append(say("cf_hand", n=len(hand), trials=number_list(hand)))
    best = record["best_trial"]
    single = record["single_seed_best"]
    if best is None:
        return out + [say("cf_all_diverged", n=n)]
    top = by_trial[best]
    spread = "" if top["std"] is None else f" ± {in_units(record, top['std'])}"
    where = say(
        "cf_where", metric=metric, mean=in_units(record, top["mean"]), spread=spread, ci=ci_text(record, top["ci95"])
    )
    if best == single:
        out.append(say("cf_keeps", best=best, n=n, where=where))
    else:
        rank_of_single = [r["trial"] for r in rows].index(single) + 1
        s = by_trial[single]
        seen = say("cf_diverged_seed") if s["mean"] is None else say("cf_mean", mean=in_units(record, s["mean"]))
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
            out.append(say("cf_no_test", n=n, min=MIN_SEEDS_FOR_P, trials=trial_list(untested, lang=lang), best=best))
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
                    trials=trial_list(same, "p_holm", lang),
                )
            )
        if flat:
            out.append(say("cf_flat", trials=trial_list(flat, lang=lang), best=best, n=n))
        if worse:
            out.append(
                say(
                    "cf_worse",
                    best=best,
                    n=n,
                    test=test,
                    alpha=f"{record['alpha']:g}",
                    trials=trial_list(worse, "p_holm", lang),
                )
            )
    diverged = [r for r in others if r["versus_top"] == "diverged"]
    if diverged:
        out.append(say("cf_diverged", n=n, trials=trial_list(diverged, lang=lang)))
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
        amount = "" if over["by"] == 0 else say("cf_by", by=difference(record, abs(over["by"]), lang))
        no_spread = over["ci95"] is not None and over["ci95"][0] == over["ci95"][1]
        out.append(
            say(
                # every fresh seed gave the same value: a zero-width interval measures no spread, so it says nothing
                "cf_overstatement_same" if no_spread else "cf_overstatement",
                trial=over["trial"],
                verb=verb,
                amount=amount,
                stored=in_units(record, over["stored_value"]),
                mean=in_units(record, over["mean"]),
                n=n,
                inside=say("cf_inside" if inside else "cf_outside"),
                ci=ci_text(record, over["ci95"]),
            )
        )
    return out
