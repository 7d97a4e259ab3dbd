"""Figures of the search space, drawn from :mod:`autotune.analysis.summary`'s points: each parameter against the
metric (:func:`slice_grid`) and the metric over two numeric parameters (:func:`contour`). A parameter sampled on a
log scale has a log axis, one sampled from choices a category axis in the choices' order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from autotune.reporting.plot_style import RED, percent_colorbar, pyplot, value_axis
from autotune.words import figures as ft


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
    percent_colorbar(fig.colorbar(dots, ax=ax), metric, lang)
    return fig
