"""Warm start: seed a new study with an old study's finished trials whose parameters fit the new space.

After a spec change (a new pruner, a wider or narrower range) the old study is refused ("made from a
different spec"); ``autotune run --warm-start OLD[@STORAGE] --study-name NEW`` starts the new study with
every finished trial of OLD whose configuration the new spec can hold, so its sampler starts from
what is known. :func:`plan` decides (reading only), :func:`seed` copies; a trial copied before
(user attribute ``warm_start``) is never copied twice.

A value means the same in both studies only if the trials were trained and measured the same way,
so the specs must agree on everything but the sampler, pruner, space, fixed values and trial count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import optuna

from autotune.errors import ConfigError, OptionError, SpecError, StudyNotFoundError
from autotune.search.configs import Outside, config_of, fit, show
from autotune.spec.study import StudySpec
from autotune.storage.stored import stored_spec
from autotune.storage.studies import FINISHED_STATES, open_storage, redact, resolve_storage_url

#: What a warm start may change; everything else in a spec changes what a trial's value means.
SAME_MEANING = (
    "dataset",
    "model",
    "metric",
    "direction",
    "objectives",
    "constraints",
    "max_epochs",
    "validation_size",
    "train_subset",
    "seed",
)
#: The system attribute where Optuna keeps a trial's constraint values (copied with the trial).
CONSTRAINTS_KEY = "constraints"


@dataclass(frozen=True)
class WarmPlan:
    study: str
    storage: str  # redacted
    trials: int  # in the old study, any state
    take: tuple[optuna.trial.FrozenTrial, ...]  # copies ready to add, each naming its source trial
    not_taken: tuple[tuple[str, int], ...]  # (reason, how many trials), most frequent first
    #: (value outside the new space that the trials did not state, how many trials): copied without it
    unstated: tuple[tuple[str, int], ...] = ()


def parse_ref(ref: str, storage: str | None) -> tuple[str, str]:
    """``STUDY`` or ``STUDY@STORAGE`` -> (study name, storage URL); without a storage, the run's own."""
    name, sep, url = ref.partition("@")  # study names hold no '@'; a URL's password may
    if not name or (sep and not url):
        raise OptionError(
            f"«warm_start» {ref!r}: give STUDY or STUDY@STORAGE (a study name, then an optional storage URL)"
        )
    return name, url if sep else resolve_storage_url(storage)


def plan(spec: StudySpec, ref: str, *, storage: str | None, target: str) -> WarmPlan:
    """Which trials of the study ``ref`` names can seed study ``target`` of ``spec``, and why the others cannot."""

    name, url = parse_ref(ref, storage)
    if name == target and url == resolve_storage_url(storage):
        raise OptionError(
            f"«warm_start» {ref}: that is the study this run fills; give the new study another «study_name»"
        )
    rdb = open_storage(url, must_exist=True)
    try:
        old = optuna.load_study(study_name=name, storage=rdb)
    except KeyError:
        raise StudyNotFoundError(f"«warm_start»: no study '{name}' in storage '{redact(url)}'") from None
    old_spec = stored_spec(old)
    if old_spec is None:
        raise SpecError(f"«warm_start»: study '{name}' has no stored spec (it was not created by autotune)")
    _check_meaning(old_spec, spec, name)
    mark = {"study": name, "storage": redact(url)}
    take, reasons, unstated = [], Counter(), Counter()
    trials = old.get_trials(deepcopy=False)
    for t in trials:
        if t.state not in FINISHED_STATES:
            reasons[f"{t.state.name.lower()} (not finished)"] += 1
            continue
        try:
            config = config_of(old_spec, t)
            where = fit(spec, config)
        except (ConfigError, ValueError):  # a trial whose parameters do not make a configuration of the old spec
            reasons["its parameters are not a configuration of its own spec"] += 1
            continue
        stated = stated_names(old_spec, t)
        blocking = [o for o in where.outside if _base_name(spec, o.name) in stated]
        if blocking:
            reasons[_reason(blocking[0])] += 1
            continue
        for o in where.outside:  # autotune's defaults, never the trial's own choice: the same rule as import's
            unstated[f"{o.name} {show(o.value)} ({o.allowed})"] += 1
        take.append(
            _copy(
                t,
                where.params,
                where.distributions,
                {**mark, "trial": t.number},
                config=config,
                outside=[str(o) for o in where.outside],
            )
        )
    return WarmPlan(
        name, redact(url), len(trials), tuple(take), tuple(reasons.most_common()), tuple(unstated.most_common())
    )


def stated_names(spec: StudySpec, trial: optuna.trial.FrozenTrial) -> set[str]:
    """The parameters a finished trial states itself: those its sampler chose, those its spec fixes, and for a
    trial imported from a hand table those the table (or ``--base``) gave. Everything else came from autotune's
    defaults, and a default outside a new space never keeps a trial out (as in ``autotune import``)."""
    if isinstance(trial.user_attrs.get("hand_stated"), list):
        names = set(trial.user_attrs["hand_stated"])
    else:
        names = {_base_name(spec, name) for name in trial.params}
    return names | set(spec.fixed)


def _base_name(spec: StudySpec, name: str) -> str:
    """``units_l1`` -> ``units`` (a per-layer width is its list's); ``n_layers`` is the list's depth."""
    per_layer = spec.per_layer
    if per_layer and (name.startswith(f"{per_layer}_l") or name == "n_layers"):
        return per_layer
    return name


def seed(study: optuna.Study, warm: WarmPlan) -> dict[str, Any]:
    """Add the planned copies that ``study`` does not hold yet; returns what the summary reports."""

    def source(t: optuna.trial.FrozenTrial) -> Any:
        mark = t.user_attrs.get("warm_start")
        return (mark.get("study"), mark.get("storage"), mark.get("trial")) if isinstance(mark, dict) else None

    present = {source(t) for t in study.get_trials(deepcopy=False)}
    fresh = [t for t in warm.take if source(t) not in present]
    if fresh:
        study.add_trials(fresh)
    return {
        "study": warm.study,
        "storage": warm.storage,
        "trials": warm.trials,
        "taken": len(warm.take),
        "added": len(fresh),
        "copied_before": len(warm.take) - len(fresh),
        "not_taken": [{"reason": reason, "trials": n} for reason, n in warm.not_taken],
        "unstated": [{"value": value, "trials": n} for value, n in warm.unstated],
    }


def lines(record: dict[str, Any]) -> list[str]:
    """The warm start in words: how many trials were taken, and one line per reason the others were not."""
    taken, before = record["taken"], record["copied_before"]
    head = (
        f"Warm start from study '{record['study']}' ({record['storage']}): {taken} of its {record['trials']} "
        f"trial(s) fit this spec"
        + (f"; {record['added']} copied now, {before} copied before" if before else ", copied")
        + "."
    )
    return (
        [head]
        + [
            f"  {r['trials']} taken without {r['value']}: a default the trial did not state, outside "
            "this spec's space; kept in its 'config' attribute, not given to the sampler"
            for r in record.get("unstated", [])
        ]
        + [f"  {r['trials']} not taken: {r['reason']}" for r in record["not_taken"]]
    )


def plan_lines(warm: WarmPlan) -> list[str]:
    """What a warm start will copy, said before any training (:func:`lines` says it again in the summary)."""
    return lines(
        {
            "study": warm.study,
            "storage": warm.storage,
            "trials": warm.trials,
            "taken": len(warm.take),
            "added": len(warm.take),
            "copied_before": 0,
            "not_taken": [{"reason": r, "trials": n} for r, n in warm.not_taken],
            "unstated": [{"value": v, "trials": n} for v, n in warm.unstated],
        }
    )


def _check_meaning(old: StudySpec, new: StudySpec, name: str) -> None:
    before, after = old.to_dict(), new.to_dict()
    for key in SAME_MEANING:
        if before.get(key) != after.get(key):
            raise OptionError(
                f"«warm_start»: study '{name}' was run with {key} {before.get(key)!r}, this spec has "
                f"{after.get(key)!r}; its values would not mean the same here (a warm start may change "
                "only the sampler, pruner, space, fixed values and trial count)"
            )


def _reason(first: Outside) -> str:
    if first.allowed.startswith(("fixed at", "not searched")):
        return f"{first.name} {first.value!r}, where the new spec has it {first.allowed}"
    return f"{first.name} outside the new space ({first.allowed})"


def _copy(
    t: optuna.trial.FrozenTrial,
    params: dict[str, Any],
    distributions: dict[str, Any],
    mark: dict[str, Any],
    *,
    config: dict[str, Any],
    outside: list[str],
) -> optuna.trial.FrozenTrial:
    """``t`` with the new spec's distributions, its own times, values, curve and attributes, and where it came
    from; Optuna's other system attributes (a pruner's rungs) belong to the old study's pruner and stay behind."""
    system = {CONSTRAINTS_KEY: t.system_attrs[CONSTRAINTS_KEY]} if CONSTRAINTS_KEY in t.system_attrs else {}
    return optuna.trial.FrozenTrial(
        number=t.number,
        state=t.state,
        value=None,
        values=t.values,
        datetime_start=t.datetime_start,
        datetime_complete=t.datetime_complete,
        params=params,
        distributions=distributions,
        user_attrs={
            **t.user_attrs,
            "warm_start": mark,
            **({"config": config, "outside_space": outside} if outside else {}),
        },
        system_attrs=system,
        intermediate_values=dict(t.intermediate_values),
        trial_id=0,
    )  # the storage numbers it
