"""Figures drawn from computed results (the numbers come from :mod:`autotune.analysis`): bars of means over seeds,
a line over a factor's values, importance bars, a heatmap and a confirmation's chart. Each function returns a
matplotlib Figure in the look of :mod:`autotune.reporting.plot_style`, whose ``save`` writes it as a PNG; the
figures of the search space are :mod:`autotune.reporting.space_plots`.

Every figure says only what its data support: the metric in the units printed elsewhere (percent for
accuracies), a value axis that starts at 0 or says it does not, colour bars no wider than the data, and the
words it writes in English or Chinese (``lang``); metric and parameter names stay as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from autotune.analysis.confirmation_words import bounded
from autotune.reporting.plot_style import BLUE, GREY, GROUP_COLOURS, RED, percent_colorbar, pyplot, save, value_axis
from autotune.words import figures as ft


def bar_chart(
    labels: Sequence[str],
    means: Sequence[float],
    stds: Sequence[float],
    *,
    metric: str,
    title: str,
    groups: Sequence[str] | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
    lang: str = "en",
):
    """Bars (mean ± std); ``groups`` names each bar's group (one colour and legend entry per group, a gap
    between groups); ``reference`` draws a dashed line. The legend sits outside the bars."""
    from matplotlib.patches import Patch

    plt = pyplot()
    groups = list(groups) if groups is not None else [""] * len(labels)
    positions, x = [], 0.0
    for i, group in enumerate(groups):
        x += 0.6 if i and group != groups[i - 1] else 0.0
        positions.append(x)
        x += 1.0
    order = list(dict.fromkeys(groups))
    colour = {g: GROUP_COLOURS[k % len(GROUP_COLOURS)] for k, g in enumerate(order)}
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(labels) + 5.0), 4.8))
    ax.bar(positions, means, yerr=stds, capsize=4, color=[colour[g] for g in groups])
    handles = [Patch(color=colour[g], label=g) for g in order if g]
    if reference is not None:
        handles.append(
            ax.axhline(
                reference,
                color=RED,
                linestyle="--",
                linewidth=1,
                label=reference_label or ft.word("best_configuration", lang),
            )
        )
    ax.set_xticks(positions, list(labels), rotation=30, ha="right")
    ax.set_title(title)
    finite = [(m, s) for m, s in zip(means, stds) if not math.isnan(m)]
    if finite:
        low, high = min(m - s for m, s in finite), max(m + s for m, s in finite)
        pad = (high - low) * 0.15 or 0.01
        ax.set_ylim(low - pad, high + pad)
        value_axis(ax, metric, lang, low=low, high=high)
    else:
        value_axis(ax, metric, lang)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    return fig


def line_plot(
    xs: Sequence[str],
    means: Sequence[float],
    stds: Sequence[float],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    path: Path,
    lang: str = "en",
) -> Path:
    """Mean ± std of the metric ``ylabel`` against the values ``xs``, written to ``path``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    positions = list(range(len(xs)))
    ax.errorbar(positions, means, yerr=stds, marker="o", capsize=4, color=BLUE)
    ax.set_xticks(positions, list(xs))
    ax.set_xlabel(xlabel)
    value_axis(ax, ylabel, lang)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save(fig, path, dpi=120)


def importance_bars(importances: dict, *, labels: dict[str, str], lang: str = "en"):
    """Side-by-side horizontal bars for each evaluator: the value, and an error bar that is the parameter's
    bootstrap interval where it has one, else ± one std over evaluator seeds where there is a spread; both
    clipped at 0 (an importance is never negative). A bootstrap interval is drawn as it is: it need not be
    centred on the value, nor even contain it."""
    usable = {k: v for k, v in importances.items() if "error" not in v and v}
    if not usable:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(
        1, len(usable), squeeze=False, figsize=(5.2 * len(usable), 0.35 * max(len(v) for v in usable.values()) + 1.6)
    )
    for ax, (name, values) in zip(axes[0], usable.items()):
        params = list(values)[::-1]
        means = [max(0.0, values[p]["mean"]) for p in params]
        ax.barh(params, means, color=BLUE)
        bounds = [_error_bounds(values[p], m) for p, m in zip(params, means)]
        drawn = [(i, *b) for i, b in enumerate(bounds) if b]
        if drawn:
            ax.errorbar(
                [(low + high) / 2 for _, low, high in drawn],
                [i for i, _, _ in drawn],
                fmt="none",
                ecolor="black",
                capsize=3,
                xerr=[(high - low) / 2 for _, low, high in drawn],
            )
        ax.set_xlim(left=0)
        ax.set_title(labels.get(name, name), fontsize=10)
        ax.set_xlabel(ft.word("importance", lang))
    return fig


def _error_bounds(value: dict, mean: float) -> tuple[float, float] | None:
    """(low, high) of one bar's error bar: its bootstrap interval, else mean ± std; None for neither."""
    if value.get("interval"):
        low, high = value["interval"]
    elif value["std"]:
        low, high = mean - value["std"], mean + value["std"]
    else:
        return None
    return max(0.0, low), max(0.0, high)


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    metric: str,
    title: str,
    xlabel: str,
    ylabel: str,
    lang: str = "en",
):
    """One cell per (row, column): the value, written in it and coloured (colour bar in the same units);
    cells without a value are grey, and the legend says what grey means."""
    if not rows or not cols:
        return None
    plt = pyplot()
    import numpy as np
    from matplotlib.patches import Patch

    pct = ft.is_percent(metric)
    data = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * len(cols) + 3.5, 0.8 * len(rows) + 2.2))
    image = ax.imshow(data, cmap="viridis", aspect="auto")
    ax.set_facecolor(GREY)
    ax.set_xticks(range(len(cols)), list(cols))
    ax.set_yticks(range(len(rows)), list(rows))
    ax.grid(False)
    middle = np.nanmin(data) + (np.nanmax(data) - np.nanmin(data)) / 2
    for i in range(len(rows)):
        for j in range(len(cols)):
            if not np.isnan(data[i, j]):
                text = f"{data[i, j] * 100:.2f}%" if pct else f"{data[i, j]:.3g}"
                ax.text(
                    j, i, text, ha="center", va="center", fontsize=9, color="black" if data[i, j] >= middle else "white"
                )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    percent_colorbar(fig.colorbar(image, ax=ax), metric, lang)
    if np.isnan(data).any():
        ax.legend(
            handles=[Patch(facecolor=GREY, edgecolor="grey", label=ft.word("no_complete", lang))],
            loc="upper left",
            bbox_to_anchor=(0.0, -0.18),
            borderaxespad=0,
            frameon=False,
        )
    return fig


def confirmation_chart(record: dict, *, lang: str = "en"):
    """A confirmation (:mod:`autotune.analysis.confirmation`): per confirmed trial, best mean first, its mean with
    the 95% interval, each seed's value as a dot, and the search's single-seed value as a red cross."""
    from matplotlib.lines import Line2D

    rows = [r for r in record["ranking"] if r["mean"] is not None]
    if not rows:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(rows) + 4.5), 4.4))
    xs = list(range(len(rows)))
    for x, r in zip(xs, rows):
        low, high = bounded(record, r["ci95"]) or (r["mean"], r["mean"])  # an accuracy's within 0-100%
        ax.errorbar(
            [x],
            [r["mean"]],
            yerr=[[r["mean"] - low], [high - r["mean"]]],
            marker="o",
            capsize=5,
            color=BLUE if r["versus_top"] != "worse" else GREY,
            markersize=7,
        )
        ax.scatter([x + 0.12] * len(r["values"]), r["values"], color="black", s=10, zorder=3)
        ax.scatter([x - 0.12], [r["stored_value"]], marker="x", color=RED, s=36, zorder=3)
    ax.set_xticks(xs, [f"{ft.word('trial', lang)} {r['trial']}" for r in rows], rotation=20, ha="right")
    values = [
        v for r in rows for v in (*r["values"], r["stored_value"], *(bounded(record, r["ci95"]) or ())) if v is not None
    ]
    value_axis(ax, record["metric"], lang, low=min(values), high=max(values))
    ax.set_title(ft.word("confirm_title", lang, n=record["seeds"]))
    ax.grid(alpha=0.3, axis="y")
    handles = [
        Line2D([], [], marker="o", color=BLUE, label=ft.word("confirm_mean", lang)),
        *(
            [Line2D([], [], marker="o", color=GREY, label=ft.word("confirm_worse", lang))]
            if any(r["versus_top"] == "worse" for r in rows)
            else []
        ),
        Line2D([], [], marker=".", linestyle="", color="black", label=ft.word("confirm_seed", lang)),
        Line2D([], [], marker="x", linestyle="", color=RED, label=ft.word("confirm_search", lang)),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    return fig
