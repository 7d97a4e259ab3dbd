"""Interactive versions of a report's figures: Optuna's plotly plots, labelled as the PNGs are
(:mod:`autotune.words.figures`), each an HTML fragment for a page that embeds plotly.js once
(:func:`plotly_js`) and so opens offline. Hovering a trial shows its parameters.

plotly is imported inside the functions only (the command line starts without it).
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Callable
from typing import Any

import optuna

from autotune.analysis import importance
from autotune.analysis import summary as analysis
from autotune.reporting import figures as report_figures
from autotune.spec.study import StudySpec
from autotune.words import figures as ft
from autotune.words.tables import short

COLUMNS = 4  # slice subplots per row, as in the PNG


def plotly_js() -> str:
    """The plotly.js source, to embed once in a page (in a ``<script>`` element) instead of loading it."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def figures(
    study: optuna.Study,
    spec: StudySpec,
    *,
    ranked_params: list[str],
    lang: str = "en",
    importance_tables: dict[str, Any] | None = None,
) -> dict[str, str]:
    """PNG file name -> an HTML fragment (``<div>…</div>``, no plotly.js in it) of the same figure, for each
    figure of the report that Optuna can draw; ``ranked_params``: the parameters by fANOVA importance;
    ``importance_tables``: the report's tables by metric (:func:`autotune.analysis.importance.importances`), whose
    bootstrap intervals become PED-ANOVA's error bars as in the PNG."""
    if not analysis.complete(study):
        return {}
    import optuna.visualization as vis

    draw = _Draw(study, spec, lang)
    primary = {"target": lambda t: t.values[0], "target_name": spec.metric} if spec.multi_objective else {}
    pair = analysis.contour_params(study, ranked_params)
    params = {"params": ranked_params[:6]} if len(ranked_params) >= 2 else {}
    # file -> (Optuna's plot, its relabelling): only the first may fail, where Optuna cannot draw these trials
    makers: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {}
    if spec.multi_objective:
        makers["pareto_front.png"] = (lambda: vis.plot_pareto_front(study, target_names=list(spec.metrics)), _as_is)
    makers["optimization_history.png"] = (lambda: vis.plot_optimization_history(study, **primary), draw.history)
    if not spec.multi_objective:
        makers["intermediate_values.png"] = (lambda: vis.plot_intermediate_values(study), draw.curves)
    makers["slice.png"] = (lambda: vis.plot_slice(study, params=draw.slice_params(), **primary), draw.slice)
    makers["parallel_coordinate.png"] = (
        lambda: vis.plot_parallel_coordinate(study, **primary, **params),
        draw.parallel,
    )
    if pair:
        makers["contour.png"] = (
            lambda: vis.plot_contour(study, params=pair, **primary),
            lambda fig: draw.contour(fig, pair),
        )
    for i, metric in enumerate(spec.metrics):
        table = (importance_tables or {}).get(metric, {})
        target = {"target": (lambda t, i=i: t.values[i]), "target_name": metric} if spec.multi_objective else {}
        makers[f"importance_{metric}.png" if spec.multi_objective else "importance.png"] = (
            lambda target=target: [
                vis.plot_param_importances(study, evaluator=evaluator, **target)
                for evaluator in (
                    optuna.importance.PedAnovaImportanceEvaluator(),
                    optuna.importance.FanovaImportanceEvaluator(seed=importance.IMPORTANCE_SEEDS[0]),
                )
            ],
            lambda figs, table=table: draw.importance(figs, table),
        )
    out = {}
    for name, (plot, relabel) in makers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fig = plot()
            except (ValueError, RuntimeError, ZeroDivisionError):
                continue
            if all(f.data for f in (fig if isinstance(fig, list) else [fig])):
                out[name] = _fragment(relabel(fig))
    return out


def _as_is(fig):
    return fig


def _fragment(fig) -> str:
    height = fig.layout.height or 480
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        default_height=f"{height}px",
        config={"displaylogo": False, "responsive": True},
    )


class _Draw:
    """Relabels Optuna's plotly figures for one study, metric and language."""

    def __init__(self, study: optuna.Study, spec: StudySpec, lang: str) -> None:
        self.study, self.spec, self.lang = study, spec, lang
        self.metric = spec.metric
        self.name = ft.metric_name(spec.metric, lang)
        self.points = analysis.slice_points(study, spec)
        self.hover = {
            t.number: html.escape(f"{ft.word('trial', lang)} {t.number}")
            + "<br>"
            + "<br>".join(html.escape(f"{k} = {short(v)}") for k, v in t.params.items())
            for t in study.get_trials(deepcopy=False)
        }

    def value_axis(self, fig, ys: list[float], *, title: str | None = None, **where: Any) -> None:
        """The metric's axis: percent where it is printed in percent, from 0 or saying it does not start at 0."""
        title = title or ft.metric_label(self.metric, self.lang)
        ys = [y for y in ys if y is not None and math.isfinite(y)]
        if ys and 0 <= min(ys) <= max(ys) / 2:
            fig.update_yaxes(rangemode="tozero", **where)
        elif ys and min(ys) > 0:
            title = ft.not_from_zero(title, self.lang)
        fig.update_yaxes(title_text=title, tickformat=".0%" if ft.is_percent(self.metric) else None, **where)

    def with_hover(self, trace, numbers) -> None:
        trace.update(text=[self.hover.get(int(n), "") for n in numbers], hovertemplate="%{text}<extra></extra>")

    def history(self, fig):
        of_complete = ft.word("of_complete", self.lang, metric=self.name)
        names = {
            "Objective Value": of_complete,
            self.metric: of_complete,
            "Best Value": ft.word("best_so_far", self.lang, metric=self.name),
            "Infeasible Trial": ft.word("infeasible", self.lang),
        }
        ys = []
        for trace in fig.data:
            if trace.name == "Infeasible Trial" and trace.x:
                trace.showlegend = True
            trace.name = names.get(trace.name, trace.name)
            if trace.mode == "markers" and trace.x:
                self.with_hover(trace, trace.x)
                ys += list(trace.y)
        pruned = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,))
        fig.update_layout(
            title=ft.word("history_title" if pruned else "history_title_plain", self.lang, metric=self.name)
        )
        fig.update_xaxes(title_text=ft.word("trial", self.lang))
        self.value_axis(fig, ys)
        return fig

    def curves(self, fig):
        states = {t.number: t.state.name for t in self.study.get_trials(deepcopy=False)}
        ys = []
        for trace in fig.data:
            number = int(trace.name.removeprefix("Trial"))
            pruned = states.get(number) == "PRUNED"
            trace.update(
                name=f"{ft.word('trial', self.lang)} {number}",
                line_dash="dash" if pruned else "solid",
                hovertemplate=self.hover.get(number, "")
                + "<br>"
                + html.escape(ft.word("pruned_trial" if pruned else "complete_trial", self.lang))
                + "<br>%{x}: %{y}<extra></extra>",
            )
            ys += list(trace.y)
        fig.update_layout(title=ft.word("curves_title", self.lang, metric=self.name))
        fig.update_xaxes(title_text=ft.word("epoch", self.lang))
        self.value_axis(
            fig, ys, title=ft.word("after_each_epoch", self.lang, metric=ft.metric_label(self.metric, self.lang))
        )
        return fig

    def slice_params(self) -> list[str]:
        return list(self.points["params"])  # sorted, as Optuna orders its subplots

    def slice(self, source):
        """Optuna's slice plot (of :meth:`slice_params`) in rows of COLUMNS, with the pruned trials the PNG
        shows added as red crosses."""
        from plotly import graph_objects as go
        from plotly.subplots import make_subplots

        points = self.points
        names = self.slice_params()
        rows = math.ceil(len(names) / COLUMNS)
        fig = make_subplots(
            rows=rows,
            cols=COLUMNS,
            shared_yaxes="all",
            subplot_titles=names,
            vertical_spacing=0.5 / rows if rows > 1 else 0.1,
        )
        numeric = analysis.numeric_params(self.study)
        epoch, first, ys = points["epoch"], True, []
        for trace in source.data:
            if not trace.x:
                continue
            i = int((trace.xaxis or "x")[1:] or 1) - 1
            row, col = i // COLUMNS + 1, i % COLUMNS + 1
            if trace.name == "Feasible Trial":
                numbers = list(trace.marker.color)
                self.with_hover(trace, numbers)
                trace.update(
                    name=ft.word("complete_final", self.lang),
                    showlegend=first,
                    legendgroup="complete",
                    marker={
                        "colorscale": "Viridis",
                        "showscale": first,
                        "colorbar": {"title": {"text": ft.word("trial", self.lang)}},
                    },
                )
                first = False
            fig.add_trace(trace, row=row, col=col)
            ys += list(trace.y)
            axis = source.layout[f"xaxis{i + 1 if i else ''}"]
            fig.update_xaxes(
                type=axis.type, categoryorder=axis.categoryorder, categoryarray=axis.categoryarray, row=row, col=col
            )
        shown = False
        for i, name in enumerate(names):
            cut = [p for p in points["params"][name] if p[3]]
            if not cut:
                continue
            xs = [p[0] if name in numeric else repr(p[0]) for p in cut]
            trace = go.Scatter(
                x=xs,
                y=[p[1] for p in cut],
                mode="markers",
                legendgroup="pruned",
                showlegend=not shown,
                name=ft.word("pruned_at", self.lang, epoch=epoch),
                marker={"symbol": "x", "color": "#c44e52", "size": 8},
            )
            self.with_hover(trace, [p[2] for p in cut])
            fig.add_trace(trace, row=i // COLUMNS + 1, col=i % COLUMNS + 1)
            ys += [p[1] for p in cut]
            shown = True
        height = 280 * rows + 190
        fig.update_layout(
            title={
                "text": ft.word("slice_title", self.lang, metric=self.name),
                "y": 1 - 10 / height,
                "yanchor": "top",
                "yref": "container",
            },
            height=height,
            margin={"t": 130},
            legend={
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "y": 1 - 50 / height,
                "yanchor": "top",
                "yref": "container",
            },
        )
        self.value_axis(fig, ys, col=1)
        return fig

    def parallel(self, fig):
        """Viridis lines (Optuna's blues make low values near-white), the metric's name and units."""
        from plotly.colors import sample_colorscale

        for trace in fig.data:
            if trace.mode == "lines" and trace.customdata:  # one line per trial: y[0] is the metric, scaled to 0..1
                trace.line.color = sample_colorscale("Viridis", [trace.y[0]])[0]
            elif trace.marker.showscale:  # the colour bar
                trace.marker.update(
                    colorscale="Viridis",
                    reversescale=False,
                    colorbar={
                        "title": {"text": ft.metric_label(self.metric, self.lang)},
                        "tickformat": ".0%" if ft.is_percent(self.metric) else None,
                    },
                )
        if ft.is_percent(self.metric):
            for note in fig.layout.annotations:
                if note.x == 0:
                    note.text = f"{float(note.text):.1%}"
        ticks = list(fig.layout.xaxis.ticktext)
        fig.update_xaxes(ticktext=[ft.metric_label(self.metric, self.lang)] + ticks[1:], tickangle=-25)
        fig.update_layout(
            title={
                "text": ft.word("parallel_title", self.lang, metric=self.name),
                "y": 0.98,
                "yanchor": "top",
                "yref": "container",
            },
            margin={"t": 90},
        )
        return fig

    def contour(self, fig, pair: list[str]):
        """Viridis, the colour range that of the trials' values, hover on each trial."""
        points = analysis.contour_points(self.study, pair)
        zs = [p[2] for p in points]
        fig.update_traces(
            selector={"type": "contour"},
            colorscale="Viridis",
            reversescale=False,
            zauto=False,
            zmin=min(zs),
            zmax=max(zs),
            colorbar={
                "title": {"text": ft.metric_label(self.metric, self.lang)},
                "tickformat": ".0%" if ft.is_percent(self.metric) else None,
            },
        )
        x, y = (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text)
        for trace in fig.data:
            if trace.type == "scatter" and trace.name == "Feasible Trial":
                at = {p[3]: p for p in points}
                trace.update(x=[at[n][pair.index(x)] for n in at], y=[at[n][pair.index(y)] for n in at])
                self.with_hover(trace, list(at))
        fig.update_layout(title=ft.word("contour_title_optuna", self.lang, metric=self.name, x=x, y=y, n=len(points)))
        return fig

    def importance(self, figs, table: dict[str, Any]):
        """Optuna's importance bars for PED-ANOVA and fANOVA (one evaluator seed), side by side as the PNG;
        PED-ANOVA's bootstrap intervals from ``table`` (the report's) as black segments, as in the PNG."""
        from plotly import graph_objects as go
        from plotly.subplots import make_subplots

        seeds = ", ".join(map(str, importance.IMPORTANCE_SEEDS))
        titles = [
            report_figures.default_label(table, len(analysis.complete(self.study)), self.lang),
            ft.word("importance_fanova_one", self.lang, seed=importance.IMPORTANCE_SEEDS[0], seeds=seeds),
        ]
        fig = make_subplots(
            rows=1, cols=2, subplot_titles=[t.replace("\n", "<br>") for t in titles], horizontal_spacing=0.18
        )
        for col, source in enumerate(figs, start=1):
            for trace in source.data:
                fig.add_trace(trace.update(marker_color="#4c72b0"), row=1, col=col)
        intervals = {
            p: v["interval"] for p, v in table.get("default", {}).items() if isinstance(v, dict) and v.get("interval")
        }
        if intervals:
            xs, ys = [], []
            for p, (low, high) in intervals.items():
                xs += [max(0.0, low), max(0.0, high), None]
                ys += [p, p, None]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    line={"color": "black", "width": 1.5},
                    marker={"symbol": "line-ns-open", "size": 8, "color": "black"},
                    hoverinfo="skip",
                ),
                row=1,
                col=1,
            )
        fig.update_xaxes(title_text=ft.word("importance", self.lang), rangemode="tozero")
        fig.update_layout(
            showlegend=False, margin={"t": 90}, height=max(480, 28 * max(len(f.data[0].y) for f in figs) + 200)
        )
        return fig
