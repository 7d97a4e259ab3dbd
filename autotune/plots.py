"""Figures drawn from computed results (the numbers come from elsewhere). PNG via matplotlib's Agg."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_chart(labels: Sequence[str], means: Sequence[float], stds: Sequence[float], *, title: str, ylabel: str,
              path: Path, reference: float | None = None) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.2))
    ax.bar(range(len(labels)), means, yerr=stds, capsize=4, color="#4c72b0")
    if reference is not None:
        ax.axhline(reference, color="#c44e52", linestyle="--", linewidth=1, label="best configuration")
        ax.legend(loc="lower right")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    finite = [m for m in means if m == m]
    if finite:
        low, high = min(m - s for m, s in zip(means, stds) if m == m), max(m + s for m, s in zip(means, stds) if m == m)
        pad = (high - low) * 0.15 or 0.01
        ax.set_ylim(low - pad, high + pad)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def line_plot(xs: Sequence[str], means: Sequence[float], stds: Sequence[float], *, title: str, xlabel: str,
              ylabel: str, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    positions = list(range(len(xs)))
    ax.errorbar(positions, means, yerr=stds, marker="o", capsize=4, color="#4c72b0")
    ax.set_xticks(positions, list(xs))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def optuna_figure(kind: str, study, path: Path, *, metric: str | None = None, **kwargs) -> Path | None:
    """One of Optuna's matplotlib plots (history, intermediate_values, slice, contour, parallel_coordinate).

    With ``metric``, the history and the learning curves are labelled with it and with "trial" or
    "epoch" (whole numbers) instead of Optuna's generic "Objective Value", "Step" and "Intermediate Value".
    """
    import warnings

    plt = _pyplot()
    from optuna.visualization import matplotlib as vm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = getattr(vm, f"plot_{kind}")(study, **kwargs)
        except (ValueError, RuntimeError):
            return None
    axes = result.flatten() if hasattr(result, "flatten") else [result]
    fig = axes[0].figure
    for ax in axes:  # one legend entry per trial is unreadable beyond a handful of trials
        if ax.get_legend() is not None and kind == "intermediate_values":
            ax.get_legend().remove()
    if metric is not None and kind in ("optimization_history", "intermediate_values"):
        relabel(axes[0], kind, metric)
    fig.set_size_inches(12.0 if kind == "parallel_coordinate" else 8.0, 5.0 if kind == "parallel_coordinate" else 4.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def relabel(ax, kind: str, metric: str) -> None:
    """Name the metric, "trial" or "epoch" (whole numbers) on Optuna's history or learning-curve axes."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("trial" if kind == "optimization_history" else "epoch")
    ax.set_ylabel(metric if kind == "optimization_history" else f"{metric} after each epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if kind == "optimization_history":
        names = {"Objective Value": f"{metric} of a complete trial", "Best Value": f"best {metric} so far"}
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles, [names.get(label, label) for label in labels])
        ax.set_title(f"{metric} per complete trial (pruned: see learning curves)")
    else:
        ax.set_title(f"{metric} after each epoch (pruned trials stop early)")


def importance_bars(importances: dict, path: Path, *, labels: dict[str, str]) -> Path | None:
    """Side-by-side horizontal bars (mean ± std over evaluator seeds) for each evaluator."""
    usable = {k: v for k, v in importances.items() if "error" not in v and v}
    if not usable:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(usable), figsize=(5.2 * len(usable), 0.35 * max(len(v) for v in usable.values()) + 1.6))
    axes = list(axes) if len(usable) > 1 else [axes]
    for ax, (name, values) in zip(axes, usable.items()):
        params = list(values)[::-1]
        ax.barh(params, [values[p]["mean"] for p in params], xerr=[values[p]["std"] or 0.0 for p in params],
                color="#4c72b0", capsize=3)
        ax.set_title(labels.get(name, name))
        ax.set_xlabel("importance")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def heatmap(rows: Sequence[str], cols: Sequence[str], values: Sequence[Sequence[float | None]], *, title: str,
            xlabel: str, ylabel: str, path: Path, percent: bool) -> Path | None:
    if not rows or not cols:
        return None
    plt = _pyplot()
    import numpy as np

    data = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    fig, ax = plt.subplots(figsize=(1.1 * len(cols) + 2.5, 0.8 * len(rows) + 1.8))
    image = ax.imshow(data, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cols)), list(cols))
    ax.set_yticks(range(len(rows)), list(rows))
    ax.grid(False)
    middle = np.nanmin(data) + (np.nanmax(data) - np.nanmin(data)) / 2
    for i in range(len(rows)):
        for j in range(len(cols)):
            if not np.isnan(data[i, j]):
                text = f"{data[i, j] * 100:.2f}" if percent else f"{data[i, j]:.3g}"
                ax.text(j, i, text, ha="center", va="center", fontsize=9,
                        color="black" if data[i, j] >= middle else "white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def slice_grid(points: dict[str, list[tuple]], path: Path, *, ylabel: str, columns: int = 4) -> Path | None:
    """One scatter per parameter (value vs metric, colour = trial number), in a grid."""
    if not points:
        return None
    plt = _pyplot()
    import math as _math

    names = list(points)
    rows = _math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.7 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        xs, ys, numbers = zip(*points[name])
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
            ax.scatter(xs, ys, c=numbers, cmap="Blues", edgecolors="grey", s=18)
            if min(xs) > 0 and max(xs) / min(xs) > 50:
                ax.set_xscale("log")
        else:
            labels = sorted({str(x) for x in xs})
            ax.scatter([labels.index(str(x)) for x in xs], ys, c=numbers, cmap="Blues", edgecolors="grey", s=18)
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
