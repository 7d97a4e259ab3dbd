"""Optuna's own matplotlib plots (history, learning curves, parallel coordinates, Pareto front), relabelled
the way :mod:`autotune.reporting.plots` labels its figures: the metric in its units, "trial" and "epoch", pruned
trials marked, a readable colour map, the words in English or Chinese."""

from __future__ import annotations

from optuna.trial import TrialState

from autotune.reporting.plot_style import pyplot, value_axis
from autotune.words import figures as ft

#: The figure size (inches) per kind; parallel coordinates grow with their axes
SIZES = {"optimization_history": (8.0, 4.8), "intermediate_values": (8.0, 4.8), "pareto_front": (8.0, 4.8)}


def optuna_figure(kind: str, study, *, metric: str | None = None, lang: str = "en", **kwargs):
    """One of Optuna's matplotlib plots (``plot_<kind>``) as a Figure, or None where Optuna cannot draw it.

    With ``metric``, the history, learning curves and parallel coordinates name it (in percent where it
    is printed in percent) instead of Optuna's generic "Objective Value", "Step" and "Intermediate Value".
    """
    import warnings

    pyplot()
    from optuna.visualization import matplotlib as vm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = getattr(vm, f"plot_{kind}")(study, **kwargs)
        except (ValueError, RuntimeError):
            return None
    axes = result.flatten() if hasattr(result, "flatten") else [result]
    ax = axes[0]
    ax.figure.set_size_inches(SIZES.get(kind, (max(8.0, 1.9 * len(ax.get_xticks()) + 2.5), 5.4)))
    if metric is not None and kind == "intermediate_values":
        mark_pruned(ax, study, lang)
    if metric is not None and kind in ("optimization_history", "intermediate_values"):
        relabel(ax, kind, metric, lang, pruned=bool(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))))
    if metric is not None and kind == "parallel_coordinate":
        restyle_parallel(ax, metric, lang)
    return ax.figure


def relabel(ax, kind: str, metric: str, lang: str = "en", *, pruned: bool = True) -> None:
    """Name the metric (in percent where it is printed in percent), "trial" or "epoch" (whole numbers) on
    Optuna's history or learning-curve axes, and start the value axis at 0 or say that it does not.
    ``pruned``: whether the study has pruned trials (the history's title points to them)."""
    from matplotlib.colors import to_hex
    from matplotlib.ticker import MaxNLocator

    name = ft.metric_name(metric, lang)
    ax.set_xlabel(ft.word("trial" if kind == "optimization_history" else "epoch", lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if kind == "optimization_history":
        for dots in ax.collections:  # Optuna greys infeasible trials without a legend entry
            if len(dots.get_offsets()) and to_hex(dots.get_facecolor()[0]) == "#cccccc":
                dots.set_label(ft.word("infeasible", lang))
        of_complete = ft.word("of_complete", lang, metric=name)
        names = {
            "Objective Value": of_complete,
            metric: of_complete,
            "Best Value": ft.word("best_so_far", lang, metric=name),
        }
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles, [names.get(label, label) for label in labels])
        ax.set_title(ft.word("history_title" if pruned else "history_title_plain", lang, metric=name))
        value_axis(ax, metric, lang)
    else:
        ax.set_title(ft.word("curves_title", lang, metric=name))
        value_axis(ax, metric, lang, label=ft.word("after_each_epoch", lang, metric=ft.metric_label(metric, lang)))


def mark_pruned(ax, study, lang: str) -> None:
    """Dash the learning curves of pruned trials (Optuna labels each line "Trial<n>") and replace the
    one-entry-per-trial legend with two entries: complete and pruned."""
    from matplotlib.lines import Line2D

    states = {t.number: t.state.name for t in study.get_trials(deepcopy=False)}
    for line in ax.get_lines():
        number = line.get_label().removeprefix("Trial")
        if number.isdigit() and states.get(int(number)) == "PRUNED":
            line.set_linestyle("--")
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.legend(
        handles=[
            Line2D([], [], color="#555555", label=ft.word("complete_trial", lang)),
            Line2D([], [], color="#555555", linestyle="--", label=ft.word("pruned_trial", lang)),
        ],
        loc="best",
        fontsize=8,
    )


def restyle_parallel(ax, metric: str, lang: str) -> None:
    """Optuna's parallel coordinates with viridis (low values are not near-white), the colour bar and the
    first axis named after the metric and in its units, and tick labels that lines and neighbours do not
    hide (a light box behind each, slanted axis names)."""
    from matplotlib.ticker import PercentFormatter

    lines = ax.collections[0]
    lines.set_cmap("viridis")
    colorbar = lines.colorbar
    colorbar.set_label(ft.metric_label(metric, lang))
    if ft.is_percent(metric):
        colorbar.formatter = PercentFormatter(1.0)
        colorbar.update_ticks()
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    names = [t.get_text() for t in ax.get_xticklabels()]
    ax.set_xticks(ax.get_xticks(), [ft.metric_label(metric, lang)] + names[1:], rotation=25, ha="right", fontsize=9)
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    twins = [other for other in ax.figure.axes if other is not ax and other is not colorbar.ax]
    for other in twins:
        other.tick_params(axis="y", which="both", labelsize=8)
    ax.figure.canvas.draw()  # the tick labels exist once drawn: fix them, then box each
    for other in twins:
        low, high = sorted(other.get_ylim())
        other.set_yticks([v for v in other.get_yticks() if low <= v <= high])
        for label in other.get_yticklabels() + other.get_yticklabels(minor=True):
            label.set_bbox(box)
    title = ft.word("parallel_title", lang, metric=ft.metric_name(metric, lang))
    if ax.get_legend() is not None:  # Optuna's feasibility legend sits where the title goes: say it there
        ax.get_legend().remove()
        title += "\n" + ft.word("feasible_lines", lang)
    ax.set_title(title, fontsize=10, pad=16)
