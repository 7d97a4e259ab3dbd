"""Figures drawn from computed results (the numbers come from :mod:`autotune.analysis.summary`): each function returns
a matplotlib Figure, :func:`save` writes it as a PNG (Agg).

Every figure says only what its data support: the metric in the units printed elsewhere (percent for
accuracies), a value axis that starts at 0 or says it does not, colour bars no wider than the data, and the
words it writes in English or Chinese (``lang``); metric and parameter names stay as they are.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autotune.words import figures as ft

#: Tried glyph by glyph (matplotlib >= 3.6 falls back per glyph): Latin from DejaVu Sans, Chinese from a CJK font
FONTS = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
)
BLUE, ORANGE, RED, GREY = "#4c72b0", "#dd8452", "#c44e52", "#d9d9d9"
#: Colours of bar groups, in order
GROUP_COLOURS = ("#8c8c8c", BLUE, ORANGE, "#55a868")


def pyplot():
    """matplotlib.pyplot on Agg, in Optuna's ggplot look (its plots set it anyway), with a CJK fallback font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.style.use("ggplot")
    plt.rcParams["font.family"] = list(_installed_fonts())
    return plt


@functools.lru_cache(maxsize=1)
def _installed_fonts() -> tuple[str, ...]:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return tuple(f for f in FONTS if f in names) or ("sans-serif",)


def save(fig, path: Path, *, dpi: int = 110) -> Path | None:
    """Write ``fig`` (None: nothing to draw) as a PNG at ``path`` and close it."""
    if fig is None:
        return None
    import matplotlib.pyplot as plt

    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def value_axis(
    ax, metric: str, lang: str, *, label: str | None = None, low: float | None = None, high: float | None = None
) -> None:
    """Label the y axis with the metric (in percent where it is printed in percent) and start it at 0 where
    that costs little room (the lowest value, ``low``, at most half the highest); otherwise keep the axis
    zoomed on the data and say in its label that it does not start at 0. Without ``low`` and ``high``, the
    extent of what is drawn on ``ax``."""
    from matplotlib.ticker import PercentFormatter

    label = label or ft.metric_label(metric, lang)
    if ft.is_percent(metric):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if low is None or high is None:
        low, high = ax.dataLim.y0, ax.dataLim.y1
    if 0 <= low <= high / 2:
        ax.set_ylim(bottom=0)
    elif low > 0:
        label = ft.not_from_zero(label, lang)
    ax.set_ylabel(label)


def _percent_colorbar(colorbar, metric: str, lang: str) -> None:
    from matplotlib.ticker import PercentFormatter

    colorbar.set_label(ft.metric_label(metric, lang))
    if ft.is_percent(metric):
        colorbar.formatter = PercentFormatter(1.0)
        colorbar.update_ticks()


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
    _percent_colorbar(fig.colorbar(image, ax=ax), metric, lang)
    if np.isnan(data).any():
        ax.legend(
            handles=[Patch(facecolor=GREY, edgecolor="grey", label=ft.word("no_complete", lang))],
            loc="upper left",
            bbox_to_anchor=(0.0, -0.18),
            borderaxespad=0,
            frameon=False,
        )
    return fig


def slice_grid(points: dict[str, Any], *, metric: str, lang: str = "en", columns: int = 4):
    """One scatter per parameter (value against the metric, one shared value axis), in a grid, from
    :func:`autotune.analysis.summary.slice_points`: complete trials as dots coloured by trial number, pruned ones
    as red crosses at their value at the common epoch. A parameter sampled from a range has a numeric axis
    (log where it was sampled on a log scale), one sampled from choices a category axis."""
    params, epoch = points["params"], points["epoch"]
    if not params:
        return None
    plt = pyplot()
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    names = list(params)
    every = [p for pts in params.values() for p in pts]
    norm = Normalize(min(p[2] for p in every), max(p[2] for p in every))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(3.4 * columns, 2.7 * rows + 1.0), squeeze=False, sharey=True, layout="constrained"
    )
    for ax, name in zip(axes.flat, names):
        pts = params[name]
        xs = [p[0] for p in pts]
        if name in points["log"]:  # sampled from a range
            where = list(xs)
            if points["log"][name]:
                _log_axis(ax.xaxis, min(xs), max(xs))
            elif all(isinstance(x, int) for x in xs):
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:  # choices, in their order (numbers by value)
            labels = _in_order(set(xs))
            where = [labels.index(str(x)) for x in xs]
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
        done = [i for i, p in enumerate(pts) if not p[3]]
        cut = [i for i, p in enumerate(pts) if p[3]]
        ax.scatter(
            [where[i] for i in done],
            [pts[i][1] for i in done],
            c=[pts[i][2] for i in done],
            cmap="viridis",
            norm=norm,
            edgecolors="grey",
            s=20,
        )
        ax.scatter([where[i] for i in cut], [pts[i][1] for i in cut], marker="x", color=RED, s=26, linewidths=1.3)
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    ys = [p[1] for p in every]
    for row in axes:
        value_axis(row[0], metric, lang, low=min(ys), high=max(ys))
        row[0].yaxis.label.set_fontsize(8)
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color="#3b528b",
            markeredgecolor="grey",
            label=ft.word("complete_final", lang),
        )
    ]
    if any(p[3] for p in every):
        handles.append(
            Line2D([], [], marker="x", linestyle="", color=RED, label=ft.word("pruned_at", lang, epoch=epoch))
        )
    fig.suptitle(ft.word("slice_title", lang, metric=ft.metric_name(metric, lang)))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=len(handles),
        frameon=False,
        title=ft.word("slice_colour", lang),
        title_fontsize=9,
    )
    return fig


def _log_axis(axis, low: float, high: float) -> None:
    """A log-scale axis with plain tick labels: powers of ten over a wide range, 1-2-5 steps within two decades
    (where matplotlib would label minor ticks on top of each other)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.axes.set_xscale("log") if axis is axis.axes.xaxis else axis.axes.set_yscale("log")
    if low > 0 and high / low < 100:
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def _in_order(choices) -> list[str]:
    """Choices as tick labels: numbers (and booleans) by value, then the rest alphabetically."""
    numbers = sorted(c for c in choices if isinstance(c, (int, float)))
    return [str(c) for c in numbers] + sorted(str(c) for c in choices if not isinstance(c, (int, float)))


def contour(
    points: Sequence[tuple[float, float, float, int]],
    *,
    params: Sequence[str],
    log: Sequence[bool],
    metric: str,
    lang: str = "en",
):
    """The metric over two numeric parameters: each trial a dot in its colour, and between the trials the
    linear interpolation of their values over a triangulation (so never outside them, nor beyond their
    range); ``log`` says which axes are on a log scale. None with fewer than 3 trials."""
    if len(points) < 3:
        return None
    plt = pyplot()
    import numpy as np
    from matplotlib.colors import Normalize
    from matplotlib.ticker import FuncFormatter
    from matplotlib.tri import Triangulation

    def coord(values, is_log):
        return np.log10(np.asarray(values, dtype=float)) if is_log else np.asarray(values, dtype=float)

    xs, ys = coord([p[0] for p in points], log[0]), coord([p[1] for p in points], log[1])
    zs = np.array([p[2] for p in points], dtype=float)
    norm = Normalize(zs.min(), zs.max())
    fig, ax = plt.subplots(figsize=(8.0, 5.6))
    cells: dict[tuple[float, float], list[float]] = {}  # a triangulation needs distinct points: average repeats
    for x, y, z in zip(xs, ys, zs):
        cells.setdefault((float(x), float(y)), []).append(float(z))
    if zs.max() > zs.min() and len(cells) >= 3:
        try:
            tri = Triangulation([k[0] for k in cells], [k[1] for k in cells])
            ax.tricontourf(
                tri,
                [sum(v) / len(v) for v in cells.values()],
                levels=np.linspace(zs.min(), zs.max(), 11),
                cmap="viridis",
                norm=norm,
                alpha=0.85,
            )
        except (ValueError, RuntimeError):  # every point on one line: dots only
            pass
    dots = ax.scatter(xs, ys, c=zs, cmap="viridis", norm=norm, edgecolors="white", linewidths=1.0, s=40, zorder=3)
    for axis, is_log in ((ax.xaxis, log[0]), (ax.yaxis, log[1])):
        if is_log:
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{10**v:.2g}"))
    ax.set_xlabel(ft.word("log_scale", lang, name=params[0]) if log[0] else params[0])
    ax.set_ylabel(ft.word("log_scale", lang, name=params[1]) if log[1] else params[1])
    ax.set_title(
        ft.word("contour_title", lang, metric=ft.metric_name(metric, lang), x=params[0], y=params[1], n=len(points)),
        fontsize=10,
        wrap=True,
    )
    _percent_colorbar(fig.colorbar(dots, ax=ax), metric, lang)
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
        low, high = r["ci95"] if r["ci95"] else (r["mean"], r["mean"])
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
    values = [v for r in rows for v in (*r["values"], r["stored_value"], *(r["ci95"] or ())) if v is not None]
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
