"""The sentences and table cells of a report, in the report's language (words from :mod:`autotune.words.i18n`).

:mod:`autotune.reporting.reports` computes and writes; this module only turns its numbers into text, the same
text for ``report.md`` and ``index.html``.
"""

from __future__ import annotations

import functools
from typing import Any

from autotune.analysis import confirmation_words, importance
from autotune.analysis import summary as analysis
from autotune.base import timing
from autotune.hardware.steps import recorded_step
from autotune.spec.study import StudySpec
from autotune.words import i18n, tables
from autotune.words.figures import value_text
from autotune.words.tables import short

COLUMNS = {  # the seed reports' trial table, in English and Chinese
    "number": ("No.", "编号"),
    "lr": ("Learning rate", "学习率"),
    "batch_size": ("Batch size", "Batch Size"),
    "structure": ("Structure", "网络结构"),
    "init": ("Initialisation", "初始化方法"),
    "train_loss": ("Train loss", "训练集Loss"),
    "val_accuracy": ("Validation accuracy (%)", "验证集准确率(%)"),
    "val_loss": ("Validation loss", "验证集Loss"),
    "state": ("State", "状态"),
    "remark": ("Remarks", "备注"),
    "feasible": ("feasible", "满足约束"),
}


def extra_metrics(spec: StudySpec) -> list[str]:
    """Objectives beyond the seed reports' columns (multi-objective studies)."""
    return [m for m in spec.metrics if m not in ("val_accuracy", "val_loss")]


def headers(lang: str, spec: StudySpec) -> list[str]:
    def column(key: str) -> str:
        return i18n.pick(COLUMNS, key, lang)

    extra = extra_metrics(spec) + ([column("feasible")] if spec.constraints else [])
    return (
        [column(k) for k in ("number", "lr", "batch_size", "structure", "init", "train_loss", "val_accuracy")]
        + extra
        + [column(k) for k in ("state", "remark")]
    )


def row_cells(row: dict[str, Any], spec: StudySpec, lang: str) -> list[str]:
    def num(v: Any, digits: int = 4) -> str:
        return "-" if v is None else f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    acc = row["val_accuracy"]
    extra = [num(row[m]) for m in extra_metrics(spec)] + (
        [i18n.say(lang, "yes" if row["feasible"] else "no")] if spec.constraints else []
    )
    number = str(row["number"]) + (i18n.say(lang, "hand_marker") if row.get("source") == "hand" else "")
    return [
        number,
        num(row["lr"], 3),
        num(row["batch_size"]),
        row["structure"] or "-",
        i18n.init_name(row["init"], lang) if row["init"] else "-",
        num(row["train_loss"]),
        "-" if acc is None else f"{acc * 100:.2f}",
        *extra,
        i18n.state(row["state"], lang),
        i18n.remark(row["remark"] or "", lang),
    ]


def pareto_table(spec: StudySpec, front: list[dict[str, Any]], lang: str) -> tuple[list[str], list[list[str]]]:
    metrics = list(spec.metrics)
    body = [
        [
            str(p["number"]),
            *(short(p[m]) for m in metrics),
            ", ".join(f"{k}={short(v)}" for k, v in p["params"].items()),
        ]
        for p in front
    ]
    return ["trial" if lang == "en" else "试验", *metrics, "parameters" if lang == "en" else "参数"], body


def summary_lines(s: dict[str, Any], lang: str) -> list[str]:
    say = functools.partial(i18n.say, lang)
    best = (
        "-"
        if s["best_value"] is None
        else say("best_value", value=value_text(s["metric"], s["best_value"]), trial=s["best_trial"])
    )
    saved = "-" if s["pruning_saved"] is None else f"{s['pruning_saved']:.0%}"
    multi = len(s["objectives"]) > 1
    listed = ", ".join(f"{o['metric']} ({say(o['direction'])})" for o in s["objectives"])
    goal = (
        say("goal_many", listed=listed) if multi else say("goal_one", metric=s["metric"], direction=say(s["direction"]))
    )
    states = say("sep").join(f"{i18n.state(k, lang)} {v}" for k, v in s["states"].items()) or say("none")
    lines = [
        say("study_line", study=s["study"], spec=s["spec"], description=s["description"]),
        say("data_line", dataset=s["dataset"], model=s["model"], goal=goal),
        say("storage_line", storage=s["storage"]),
        say("states_line", states=states),
    ]
    if s["constraints"]:
        lines.append(
            say(
                "constraints_line",
                constraints="; ".join(s["constraints"]),
                feasible=s["feasible"],
                infeasible=", ".join(map(str, s["infeasible"])) or say("none"),
            )
        )
    if not multi:
        params = ", ".join(f"{k}={short(v)}" for k, v in s["best_params"].items()) or "-"
        lines += [say("best_line", metric=s["metric"], best=best), say("best_params_line", params=params)]
    wall = s["wall_seconds"] if s["wall_seconds"] is not None else "-"
    lines += [
        say("time_line", trial_seconds=s["trial_seconds"], wall_seconds=wall),
        say("pruning_line", trained=s["epochs_trained"], budget=s["epochs_without_pruning"], saved=saved),
    ]
    parts = timing.time_line(s["time_s"], lang) if s.get("time_s") else None
    return lines + ([parts] if parts else [])


def analysis_intro(basis: analysis.Basis, lang: str) -> str:
    return i18n.say(lang, "analysis_intro", basis=basis.text(lang), min=analysis.MIN_PER_GROUP)


def effect_lines(
    spec: StudySpec, effects: list[dict[str, Any]], confounded: list[tuple[str, str]], lang: str
) -> list[str]:
    pct = spec.metric == "val_accuracy"
    lines = [i18n.say(lang, "confounded", a=a, b=b) for a, b in confounded]
    for e in effects:
        kind = i18n.say(lang, e["kind"])
        if e["too_few"]:
            counts = ", ".join(f"{k}: {g['n']}" for k, g in e["groups"].items())
            lines.append(
                i18n.say(lang, "too_few", param=e["param"], kind=kind, counts=counts, min=analysis.MIN_PER_GROUP)
            )
            continue
        diff = f"{e['difference'] * 100:+.2f} {i18n.points(lang)}" if pct else f"{e['difference']:+.4g}"
        lines.append(
            i18n.say(
                lang,
                "effect",
                param=e["param"],
                kind=kind,
                best=e["best"],
                best_mean=analysis.format_metric(e["best_mean"], pct),
                best_n=e["best_n"],
                worst=e["worst"],
                worst_mean=analysis.format_metric(e["worst_mean"], pct),
                worst_n=e["worst_n"],
                diff=diff,
            )
        )
    return lines


def importance_cell(value: dict[str, Any]) -> str:
    """PED-ANOVA is deterministic (one run, std None): its value alone, never a made-up ± 0."""
    return f"{value['mean']:.3f}" + ("" if value["std"] is None else f" ± {value['std']:.3f}")


def importance_tables(
    spec: StudySpec, by_objective: dict[str, dict[str, Any]], lang: str, *, n_complete: int
) -> list[dict[str, Any]]:
    """Per objective: heading, table heads and body (one row per parameter, one column per evaluator, and for
    a bootstrapped one its rank before and its interval after it), the evaluators that could not run with
    their reasons, and the lines under the table (which neighbours in the ranking cannot be told apart, or
    why there is no interval)."""
    out = []
    for metric, table in by_objective.items():
        suffix = i18n.say(lang, "for_metric", metric=metric) if spec.multi_objective else ""
        names = [n for n, v in table.items() if "error" not in v]
        params = list(dict.fromkeys(p for n in names for p in table[n]))
        how = {"default": i18n.say(lang, "imp_default"), "fanova": i18n.say(lang, "imp_fanova")}
        heads, rows, lines = [i18n.say(lang, "parameter")], {p: [p] for p in params}, []
        for n in names:
            boot_heads, cells, said = (
                _bootstrap_parts(table[n], n, lang, n_complete)
                if any("interval" in v for v in table[n].values())
                else ([], {}, [])
            )
            described = how.get(n, "mean ± std")
            if n not in importance.BOOTSTRAPPED:
                described = i18n.say(lang, "imp_not_resampled", how=described)
            value_head = (
                f"{i18n.evaluator(n, lang)} ({described})"
                if lang == "en"
                else f"{i18n.evaluator(n, lang)}（{described}）"
            )
            heads += [boot_heads[0], value_head, boot_heads[1]] if boot_heads else [value_head]
            for p, row in rows.items():
                value = importance_cell(table[n][p]) if p in table[n] else "-"
                rank, interval = cells.get(p, ("-", "-"))
                row += [rank, value, interval] if boot_heads else [value]
            lines += said
        out.append(
            {
                "heading": i18n.say(lang, "h_importance", suffix=suffix),
                "heads": heads,
                "body": list(rows.values()),
                "missing": [
                    f"{n}: " + i18n.say(lang, "not_computed", error=v["error"])
                    for n, v in table.items()
                    if "error" in v
                ],
                "lines": lines,
            }
        )
    return out


def _bootstrap_parts(
    values: dict[str, Any], name: str, lang: str, n_complete: int
) -> tuple[list[str], dict[str, tuple[str, str]], list[str]]:
    """For one bootstrapped evaluator: the rank and interval heads, per parameter its rank cell ("3 (≈ 2, 4)":
    cannot be told apart from ranks 2 and 4) and interval cell, and the sentence under the table. Without
    intervals (too few trials, or a resample it could not evaluate): no columns, one sentence why."""
    say = functools.partial(i18n.say, lang)
    where = {"evaluator": EVALUATOR_NAMES.get(name, name), "n": n_complete}
    if any(v.get("interval") is None for v in values.values()):
        key = "imp_too_few" if n_complete < importance.MIN_TRIALS_FOR_INTERVAL else "imp_failed"
        return [], {}, [say(key, min=importance.MIN_TRIALS_FOR_INTERVAL, **where)]
    ranked = list(values)  # largest first
    pairs = importance.overlapping([(p, values[p]["interval"]) for p in ranked])
    near: dict[str, list[int]] = {p: [] for p in ranked}
    for k, a, b in pairs:
        near[a].append(k + 1)
        near[b].append(k)
    cells = {}
    for rank, p in enumerate(ranked, start=1):
        low, high = values[p]["interval"]
        marker = f" (≈ {', '.join(map(str, sorted(near[p])))})" if near[p] else ""
        cells[p] = (f"{rank}{marker}", f"[{low:.3f}, {high:.3f}]")
    where["rounds"] = importance.BOOTSTRAP_ROUNDS
    heads = [say("imp_rank_head", **where), say("imp_interval_head", **where)]
    if len(ranked) > 2 and len(pairs) == len(ranked) - 1:
        return heads, cells, [say("imp_overlap_all", **where)]
    if pairs:
        listed = say("sep").join(say("imp_pair", a=k, b=k + 1, x=a, y=b) for k, a, b in pairs)
        return heads, cells, [say("imp_overlap", pairs=listed[:1].upper() + listed[1:], **where)]
    return heads, cells, [say("imp_apart", **where)] if len(ranked) > 1 else []


#: How the report names an evaluator of :func:`autotune.analysis.importance.importances` in its sentences.
EVALUATOR_NAMES = {"default": "PED-ANOVA", "fanova": "fANOVA"}


def confirmed_line(record: dict[str, Any], lang: str) -> str | None:
    """The summary's line for a recorded confirmation: the best mean over seeds, with its spread."""

    top = next((r for r in record["ranking"] if r["trial"] == record["best_trial"]), None)
    if top is None:
        return None
    pct = record["metric"] == "val_accuracy"
    return i18n.say(
        lang,
        "confirmed_line",
        n=record["seeds"],
        trial=top["trial"],
        metric=record["metric"],
        mean=tables.mean_std(top["mean"], top["std"], percent=pct),
        ci=confirmation_words.interval(record, top),
        k=len(record["ranking"]),
    )


def setup_rows(
    spec: StudySpec, study: str, target: int, lang: str, environment: dict[str, Any] | None = None
) -> list[list[str]]:
    """The study's set-up as (item, setting) rows, from its spec: data and split, model, goal, search space,
    budget and seeds (the Word report's first table); ``environment`` (:func:`environment`): what the trials
    recorded of where they ran."""
    say = functools.partial(i18n.say, lang)
    v = spec.validation_size
    validation = f"{v:.0%}" if isinstance(v, float) and v < 1 else say("setup_examples", n=int(v))
    subset = say("setup_subset", n=spec.train_subset) if spec.train_subset else ""

    def span(p: Any) -> str:
        if p.kind == "categorical":
            return ", ".join(map(str, p.choices))
        extra = [say("log_scale")] if p.log else []
        extra += [f"step {short(p.step)}"] if p.step else []
        return f"{short(p.low)}–{short(p.high)}" + (f" ({', '.join(extra)})" if extra else "")

    rows = [
        [
            say("setup_study"),
            say("setup_study_value", study=study, spec=spec.name, description=spec.description or "-"),
        ],
        [
            say("setup_data"),
            say("setup_split", dataset=spec.dataset_name, validation=validation, seed=spec.seed, subset=subset),
        ],
        [say("setup_model"), spec.model],
        [
            say("setup_goal"),
            "; ".join(say("goal_one", metric=o.metric, direction=say(o.direction)) for o in spec.objectives),
        ],
        [say("setup_space"), "\n".join(f"{p.name}: {span(p)}" for p in spec.space)],
    ]
    if spec.fixed:
        rows.append([say("setup_fixed"), "; ".join(f"{k}={short(val)}" for k, val in spec.fixed.items())])
    rows += [
        [
            say("setup_budget"),
            say(
                "setup_budget_value",
                trials=target,
                epochs=spec.max_epochs,
                sampler=spec.sampler.name,
                pruner=spec.pruner.name,
                precision=spec.precision,
            ),
        ],
        [say("setup_seeds"), say("setup_seeds_value", seed=spec.seed)],
        *([[say("setup_env"), environment_text(environment, lang)]] if environment else []),
    ]
    return rows


def environment(study: Any) -> dict[str, Any]:
    """Where autotune's own trials ran, as they recorded it: the autotune version that made the study, and how many
    trials ran on each (device, torch threads, precision, training step)."""
    from collections import Counter

    own = [t.user_attrs for t in analysis.finished(study) if not analysis.by_hand(t)]
    runs = Counter(
        (str(a.get("device", "?")), a.get("threads"), str(a.get("precision", "fp32")), recorded_step(a)) for a in own
    )
    return {"version": study.user_attrs.get("autotune_version"), "runs": sorted(runs.items(), key=lambda r: -r[1])}


def environment_text(env: dict[str, Any], lang: str) -> str:
    say = functools.partial(i18n.say, lang)
    parts = [f"autotune {env['version']}"] if env.get("version") else []
    parts += [
        say("setup_env_runs", n=n, device=device, threads="-" if threads is None else threads, precision=precision)
        + (say("setup_env_fused") if step == "fused" else "")
        for (device, threads, precision, step), n in env["runs"]
    ]
    return say("sep_semicolon").join(parts) or "-"
