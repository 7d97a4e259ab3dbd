"""The files of an ablation and a sweep: the table as Markdown, CSV, JSON and Word, and its chart.

The rows come from :mod:`autotune.analysis.ablation` and :mod:`autotune.analysis.sweeps`; only the writing is here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from autotune.analysis.ablation import AblationRow, ablation_verdict, objective_delta
from autotune.reporting import documents, plot_style, plots
from autotune.spec.study import StudySpec
from autotune.storage.replays import Replay
from autotune.words import figures as ft
from autotune.words import i18n, tables


def ablation_outputs(
    spec: StudySpec, rows: list[AblationRow], out_dir: Any, *, lang: str = "en", caption: str = ""
) -> dict[str, Any]:
    """Write the ablation table (Markdown, CSV, JSON) and a bar chart of every row (leave-one-out and the
    path apart, by colour); return the verdict lines. ``caption``: what the table is of (study, trial, budget,
    seeds), the Markdown's first line."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metric = spec.metric
    pct = metric == "val_accuracy"
    heads = [
        tables.header(k, lang)
        for k in (
            "parameter",
            "configuration",
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "change",
            "share",
            "p_value",
        )
    ]
    body = []
    for r in rows:
        rep = r.replay
        if r.kind == "best":  # every change is measured against this row; every share against baseline -> best
            change = tables.header("reference", lang)
        elif r.delta is None:
            change = "-"
        else:
            change = f"{r.delta * 100:+.2f} {i18n.points(lang)}" if pct else f"{r.delta:+.4g}"
        # a share that rounds to nothing is 0%, never "-0%"
        share = "-" if r.share is None or r.kind in ("best", "baseline") else f"{round(r.share, 2) + 0.0:.0%}"
        moved = f" ({r.change})" if r.change else ""
        label = {
            "best": tables.header("best", lang),
            "baseline": tables.header("baseline", lang),
            "leave-one-out": f"- {r.component}{moved}",
            "path": f"+ {r.component}{moved}",
        }[r.kind]
        body.append(
            [
                label,
                r.configuration,
                tables.mean_std(rep.mean("train_loss"), rep.std("train_loss")),
                tables.mean_std(rep.mean("train_accuracy"), rep.std("train_accuracy"), percent=True),
                tables.mean_std(rep.mean("val_loss"), rep.std("val_loss")),
                tables.mean_std(rep.mean("val_accuracy"), rep.std("val_accuracy"), percent=True),
                change,
                share,
                "-" if r.p_value is None else f"{r.p_value:.3g}",
            ]
        )
    extra = list(spec.metrics[1:])  # a multi-objective study: every further objective gets its own column
    for metric_k in extra:
        heads.append(metric_k)
        for r, cells in zip(rows, body):
            m, d = r.replay.mean(metric_k), objective_delta(rows, r, metric_k)
            cells.append("-" if m is None else f"{m:.4g}" + ("" if d is None or r.kind == "best" else f" ({d:+.3g})"))
    verdict = ablation_verdict(spec, rows, lang=lang)
    md = (
        (caption + "\n\n" if caption else "")
        + tables.markdown(heads, body)
        + "\n"
        + tables.header("ablation_key", lang)
        + "\n\n"
        + "\n".join(verdict)
        + "\n"
    )
    (out / "ablation.md").write_text(md, encoding="utf-8")
    table = {
        "caption": caption or i18n.say(lang, "h_ablation"),
        "heads": heads,
        "body": body,
        "key": tables.header("ablation_key", lang),
        "verdict": verdict,
    }
    documents.table_document(
        out / "ablation.docx",
        title=i18n.say(lang, "h_ablation"),
        heads=heads,
        body=body,
        caption=table["caption"],
        lines=[table["key"], *verdict],
        lang=lang,
        wide=True,
    )
    (out / "ablation.csv").write_text(tables.to_csv(heads, body), encoding="utf-8")
    (out / "ablation.json").write_text(
        json.dumps(
            {
                "metric": metric,
                "caption": caption,
                "rows": [
                    {
                        "kind": r.kind,
                        "component": r.component,
                        "change": r.change,
                        "configuration": r.configuration,
                        "delta": r.delta,
                        "share": r.share,
                        "p_value": r.p_value,
                        "deltas": {m: objective_delta(rows, r, m) for m in spec.metrics},
                        **r.replay.summary(),
                    }
                    for r in rows
                ],
                "verdict": verdict,
            },
            indent=1,
            default=str,
        ),
        encoding="utf-8",
    )
    group = {
        "best": "reference_rows",
        "baseline": "reference_rows",
        "leave-one-out": "leave_one_out",
        "path": "ablation_path",
    }
    label = {"best": tables.header("best", lang), "baseline": tables.header("baseline", lang)}
    plot_style.save(
        plots.bar_chart(
            [label.get(r.kind, f"{'-' if r.kind == 'leave-one-out' else '+'} {r.component}") for r in rows],
            [r.replay.mean(metric) or math.nan for r in rows],
            [r.replay.std(metric) or 0.0 for r in rows],
            groups=[ft.word(group[r.kind], lang) for r in rows],
            metric=metric,
            lang=lang,
            title=ft.word("ablation_title", lang, name=spec.name, seeds=len(rows[0].replay.runs)),
            reference=rows[0].replay.mean(metric),
        ),
        out / "ablation.png",
        dpi=120,
    )
    return {"markdown": md, "verdict": verdict, "files": sorted(p.name for p in out.iterdir()), "table": table}


def sweep_outputs(
    spec: StudySpec, param: str, replays: list[Replay], out_dir: Any, *, lang: str = "en", caption: str = ""
) -> dict[str, Any]:
    """Write the sweep's table (Markdown, CSV, JSON) and its line plot. ``caption``: what the table is of (study,
    trial it started from, seeds, epochs), the Markdown's first line."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    heads = [param] + [
        tables.header(k, lang) for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")
    ]
    body = [
        [
            rep.label.split("=", 1)[1],
            tables.mean_std(rep.mean("train_loss"), rep.std("train_loss")),
            tables.mean_std(rep.mean("train_accuracy"), rep.std("train_accuracy"), percent=True),
            tables.mean_std(rep.mean("val_loss"), rep.std("val_loss")),
            tables.mean_std(rep.mean("val_accuracy"), rep.std("val_accuracy"), percent=True),
            f"{rep.mean('seconds'):.1f}",
        ]
        for rep in replays
    ]
    md = (caption + "\n\n" if caption else "") + tables.markdown(heads, body)
    stem = f"sweep-{param}"
    (out / f"{stem}.md").write_text(md, encoding="utf-8")
    (out / f"{stem}.csv").write_text(tables.to_csv(heads, body), encoding="utf-8")
    (out / f"{stem}.json").write_text(
        json.dumps({"param": param, "caption": caption, "rows": [r.summary() for r in replays]}, indent=1, default=str),
        encoding="utf-8",
    )
    plots.line_plot(
        [r.label.split("=", 1)[1] for r in replays],
        [r.mean(spec.metric) or math.nan for r in replays],
        [r.std(spec.metric) or 0.0 for r in replays],
        title=ft.word("sweep_title", lang, name=spec.name, metric=ft.metric_name(spec.metric, lang), param=param),
        xlabel=param,
        ylabel=spec.metric,
        path=out / f"{stem}.png",
        lang=lang,
    )
    return {"markdown": md, "files": sorted(p.name for p in out.iterdir())}
