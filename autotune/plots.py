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
