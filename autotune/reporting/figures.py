"""The figures of a report folder: which are drawn, from what, under which caption (and the data files
behind them). Drawing is :mod:`autotune.reporting.plots`, :mod:`autotune.reporting.space_plots` and
:mod:`autotune.reporting.optuna_plots`; numbers are
:mod:`autotune.analysis.summary`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna

from autotune.analysis import importance
from autotune.analysis import summary as analysis
from autotune.reporting import optuna_plots, plot_style, plots, space_plots
from autotune.spec.study import StudySpec
from autotune.words import figures as ft


def draw(
    study: optuna.Study,
    spec: StudySpec,
    out: Path,
    *,
    by_objective: dict[str, Any],
    depth_width: dict[str, Any],
    lang: str = "en",
    notes: list[str] | None = None,
) -> list[tuple[str, str, str]]:
    """Draw every figure the study supports into ``out``; return (file, caption, data file) per figure,
    in reading order. ``notes`` receives a line for a figure left out on purpose."""
    figures: list[tuple[str, str, str]] = []
    imp = by_objective[spec.metric]
    ranked = [p for p in imp.get("fanova", {}) if p != "error"]
    # several objectives: Optuna's single-value plots show the first (primary) one
    primary = {"target": lambda t: t.values[0], "target_name": spec.metric} if spec.multi_objective else {}
    metric = {"metric": spec.metric, "lang": lang}

    def add(fig, file: str, caption: str, data: str) -> None:
        if plot_style.save(fig, out / file):
            figures.append((file, caption, data))

    if spec.multi_objective:
        add(
            optuna_plots.optuna_figure("pareto_front", study, target_names=list(spec.metrics)),
            "pareto_front.png",
            ft.word("cap_pareto", lang),
            "data/pareto.csv",
        )
    add(
        optuna_plots.optuna_figure("optimization_history", study, **metric, **primary),
        "optimization_history.png",
        ft.word("cap_history", lang),
        "data/trials.csv",
    )
    if not spec.multi_objective:  # nothing is reported per epoch in a multi-objective study
        add(
            optuna_plots.optuna_figure("intermediate_values", study, **metric),
            "intermediate_values.png",
            ft.word("cap_curves", lang),
            "data/learning_curves.json",
        )
    points = analysis.slice_points(study, spec)
    (out / "data" / "slice.json").write_text(json.dumps(points, indent=1, default=str), encoding="utf-8")
    add(
        space_plots.slice_grid(points, **metric),
        "slice.png",
        ft.word("cap_slice", lang)
        if points["epoch"] is None
        else ft.word("cap_slice_pruned", lang, epoch=points["epoch"]),
        "data/slice.json",
    )
    add(
        optuna_plots.optuna_figure(
            "parallel_coordinate", study, **metric, **primary, **({"params": ranked[:6]} if len(ranked) >= 2 else {})
        ),
        "parallel_coordinate.png",
        ft.word("cap_parallel", lang),
        "data/trials.csv",
    )
    pair = analysis.contour_params(study, ranked)
    if pair:
        log = analysis.numeric_params(study)
        add(
            space_plots.contour(
                analysis.contour_points(study, pair), params=pair, log=[log[p] for p in pair], **metric
            ),
            "contour.png",
            ft.word("cap_contour", lang, metric=ft.metric_name(spec.metric, lang), x=pair[0], y=pair[1]),
            "data/trials.csv",
        )
    elif len(analysis.complete(study)) < analysis.MIN_CONTOUR_TRIALS and notes is not None:
        notes.append(ft.word("no_contour_few", lang, n=len(analysis.complete(study)), min=analysis.MIN_CONTOUR_TRIALS))
    elif len(ranked) >= 2 and notes is not None:
        notes.append(ft.word("no_contour", lang))
    seeds = ", ".join(map(str, importance.IMPORTANCE_SEEDS))
    n_complete = len(analysis.complete(study))
    for name, table in by_objective.items():
        file = f"importance_{name}.png" if spec.multi_objective else "importance.png"
        labels = {
            "default": default_label(table, n_complete, lang),
            "fanova": ft.word("importance_fanova", lang, seeds=seeds),
        }
        add(
            plots.importance_bars(table, labels=labels, lang=lang),
            file,
            ft.word(
                "cap_importance",
                lang,
                suffix=(f" for {name}" if lang == "en" else f"（{name}）") if spec.multi_objective else "",
            ),
            "data/importance.json",
        )
    dw = depth_width
    add(
        plots.heatmap(
            [str(d) for d in dw["depths"]],
            [str(w) for w in dw["widths"]],
            dw["best"],
            title=ft.word("depth_title", lang, metric=ft.metric_name(spec.metric, lang)),
            ylabel="n_layers",
            xlabel=ft.word("widest_layer", lang, per_layer=dw["per_layer"]),
            **metric,
        ),
        "depth_width.png",
        ft.word("cap_depth", lang),
        "data/depth_width.json",
    )
    return figures


def default_label(table: dict[str, Any], n_complete: int, lang: str) -> str:
    """The title over PED-ANOVA's bars: its bootstrap interval as the error bar, or why there is none."""
    values = table.get("default", {})
    interval = "error" not in values and bool(values) and all(v.get("interval") for v in values.values())
    return ft.importance_default_label(
        lang,
        interval=interval,
        n=n_complete,
        min_trials=importance.MIN_TRIALS_FOR_INTERVAL,
        rounds=importance.BOOTSTRAP_ROUNDS,
    )
