"""Figures say only what their data support: the metric in its units, 'trial' or 'epoch', pruned trials
marked, no colour bar or error bar beyond the data, value axes from 0 or saying they are not, and the
words in English or Chinese (rendered, not as missing glyphs)."""

from __future__ import annotations

import warnings

import matplotlib
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from autotune.analysis import summary as analysis
from autotune.reporting import plots, space_plots
from autotune.reporting.optuna_plots import optuna_figure, relabel
from autotune.spec.study import parse_spec
from tests.conftest import tiny_digits_spec

matplotlib.use("Agg")
SPACE = {
    "lr": FloatDistribution(1e-4, 1e-1, log=True),
    "dropout": FloatDistribution(0.0, 0.5),
    "init": CategoricalDistribution(["zeros", "xavier_uniform"]),
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _study():
    """Four complete trials (epochs 1-2) and two pruned at epoch 1: init=zeros never learns."""
    study = optuna.create_study(direction="maximize")
    for i, (lr, v) in enumerate(((0.001, 0.90), (0.01, 0.95), (0.03, 0.93), (0.05, 0.60))):
        study.add_trial(
            create_trial(
                params={"lr": lr, "dropout": 0.1 * i, "init": "xavier_uniform"},
                distributions=SPACE,
                value=v + 0.02,
                intermediate_values={1: v, 2: v + 0.02},
            )
        )
    for lr in (0.002, 0.02):
        study.add_trial(
            create_trial(
                params={"lr": lr, "dropout": 0.2, "init": "zeros"},
                distributions=SPACE,
                intermediate_values={1: 0.1},
                state=TrialState.PRUNED,
            )
        )
    return study


def _texts(artists) -> list[str]:
    return [t.get_text() for t in artists]


@pytest.mark.parametrize(
    "kind, xlabel, ylabel",
    [
        ("optimization_history", "trial", "val_accuracy (%) (axis does not start at 0)"),
        ("intermediate_values", "epoch", "val_accuracy (%) after each epoch (axis does not start at 0)"),
    ],
)
def test_history_and_learning_curves_are_labelled_with_the_metric(kind, xlabel, ylabel):
    from optuna.visualization import matplotlib as vm

    study = optuna.create_study(direction="maximize")
    for i in range(3):
        trial = study.ask()
        trial.suggest_float("lr", 0.001, 0.1)
        for epoch in (1, 2):
            trial.report(0.5 + i / 10 + epoch / 100, epoch)
        study.tell(trial, 0.5 + i / 10)
    ax = getattr(vm, f"plot_{kind}")(study)
    relabel(ax, kind, "val_accuracy")
    assert (ax.get_xlabel(), ax.get_ylabel()) == (xlabel, ylabel)  # 50-70 %: zoomed, and it says so
    assert all(float(tick).is_integer() for tick in ax.xaxis.get_major_locator()())
    assert ax.yaxis.get_major_formatter()(0.5, 0).endswith("%")
    if kind == "optimization_history":
        assert _texts(ax.get_legend().get_texts()) == ["val_accuracy of a complete trial", "best val_accuracy so far"]


def test_a_value_axis_starts_at_zero_where_that_costs_little_room():
    study = _study()
    fig = optuna_figure("intermediate_values", study, metric="val_accuracy")
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0 and "does not start" not in ax.get_ylabel()
    # the pruned trials' curves are dashed, and the legend says what dashed means
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
    assert styles["Trial4"] == styles["Trial5"] == "--" and styles["Trial0"] == "-"
    assert _texts(ax.get_legend().get_texts()) == ["complete trial", "pruned trial (stopped early)"]


def test_slice_plot_shows_pruned_trials_at_the_common_epoch():
    points = analysis.slice_points(_study(), parse_spec(tiny_digits_spec()))
    assert points["epoch"] == 1 and points["log"] == {"lr": True, "dropout": False}
    assert sorted((x, round(y, 4), pruned) for x, y, _, pruned in points["params"]["init"]) == [
        ("xavier_uniform", 0.62, False),
        ("xavier_uniform", 0.92, False),
        ("xavier_uniform", 0.95, False),
        ("xavier_uniform", 0.97, False),
        ("zeros", 0.1, True),
        ("zeros", 0.1, True),
    ]
    fig = space_plots.slice_grid(points, metric="val_accuracy")
    assert _texts(fig.legends[0].get_texts()) == ["complete trial (final value)", "pruned (value at epoch 1)"]
    assert "complete trials" not in fig.get_suptitle()
    ax = next(ax for ax in fig.axes if ax.get_title() == "init")
    dots, crosses = ax.collections
    assert [tuple(p) for p in crosses.get_offsets()] == [(1, 0.1), (1, 0.1)]  # zeros, at its epoch-1 value
    assert len(dots.get_offsets()) == 4 and crosses.get_paths()[0] != dots.get_paths()[0]  # another marker


def test_contour_is_drawn_over_numeric_parameters_only():
    study = _study()
    assert (
        analysis.contour_params(study, ["init", "lr", "dropout"]) == []
    )  # 4 complete trials: colours would be guesses
    for i in range(analysis.MIN_CONTOUR_TRIALS - 4):
        study.add_trial(
            create_trial(
                params={"lr": 0.004 * (i + 1), "dropout": 0.05 * i, "init": "xavier_uniform"},
                distributions=SPACE,
                value=0.9 + i / 100,
                intermediate_values={1: 0.88, 2: 0.9},
            )
        )
    assert analysis.contour_params(study, ["init", "lr", "dropout"]) == ["lr", "dropout"]
    assert analysis.contour_params(study, ["init", "lr"]) == []  # one numeric parameter: no contour
    points = analysis.contour_points(study, ["lr", "dropout"])
    fig = space_plots.contour(points, params=["lr", "dropout"], log=[True, False], metric="val_accuracy")
    colorbar = fig.axes[0].collections[-1].colorbar
    values = [p[2] for p in points]
    assert (colorbar.vmin, colorbar.vmax) == (min(values), max(values))  # never beyond the data (no 102 %)
    assert colorbar.ax.get_ylabel() == "val_accuracy (%)"
    assert all(t.endswith("%") for t in _texts(colorbar.ax.get_yticklabels()) if t)
    assert "lr" in fig.axes[0].get_title() and "dropout" in fig.axes[0].get_title()


def test_depth_width_colour_bar_in_the_cells_units_and_grey_cells_explained():
    fig = plots.heatmap(
        ["1", "2"],
        ["16", "64"],
        [[0.9, None], [0.6, 0.97]],
        metric="val_accuracy",
        title="t",
        xlabel="widest layer (units), rounded to the nearest power of two",
        ylabel="n_layers",
    )
    ax, bar = fig.axes
    assert "90.00%" in _texts(ax.texts)
    assert bar.get_ylabel() == "val_accuracy (%)" and bar.get_ylim() == (0.6, 0.97)
    assert all(t.endswith("%") for t in _texts(bar.get_yticklabels()) if t)
    assert _texts(ax.get_legend().get_texts()) == ["no complete trial"]


def test_importance_bars_never_go_below_zero_and_a_single_run_has_no_error_bar():
    fig = plots.importance_bars(
        {
            "default": {"lr": {"mean": 0.8, "std": None}, "init": {"mean": 0.2, "std": None}},
            "fanova": {"lr": {"mean": 0.9, "std": 0.05}, "init": {"mean": 0.1, "std": 0.3}},
        },
        labels={},
    )
    single, seeds = fig.axes
    assert not single.collections  # PED-ANOVA: no error bars at all
    (bars,) = seeds.collections
    lows = [min(x for x, _ in segment) for segment in bars.get_segments()]
    assert min(lows) == 0.0  # init: 0.1 - 0.3 clipped at 0
    assert single.get_xlim()[0] == 0 == seeds.get_xlim()[0]


def test_importance_bars_draw_a_bootstrap_interval_as_it_is_clipped_at_zero():
    fig = plots.importance_bars(
        {
            "default": {
                "lr": {"mean": 0.7, "std": None, "interval": [0.3, 0.65]},  # need not contain the value
                "init": {"mean": 0.2, "std": None, "interval": [-0.01, 0.4]},
                "units": {"mean": 0.1, "std": None, "interval": None},
            },  # no interval: no error bar
            "fanova": {"lr": {"mean": 0.9, "std": 0.05}, "init": {"mean": 0.1, "std": 0.02}},
        },
        labels={},
    )
    boot, seeds = fig.axes
    (bars,) = boot.collections
    spans = sorted((min(x for x, _ in seg), max(x for x, _ in seg), seg[0][1]) for seg in bars.get_segments())
    assert spans == [pytest.approx((0.0, 0.4, 1)), pytest.approx((0.3, 0.65, 2))]  # rows bottom-up: units, init, lr
    (spread,) = seeds.collections
    assert sorted(round(min(x for x, _ in seg), 6) for seg in spread.get_segments()) == [0.08, 0.85]


def test_parallel_coordinates_use_viridis_name_the_metric_and_keep_labels_apart():
    fig = optuna_figure("parallel_coordinate", _study(), metric="val_accuracy")
    ax = fig.axes[0]
    lines = ax.collections[0]
    assert lines.get_cmap().name == "viridis"
    assert lines.colorbar.ax.get_ylabel() == "val_accuracy (%)"
    fig.canvas.draw()
    names = ax.get_xticklabels()
    assert names[0].get_text() == "val_accuracy (%)"
    boxes = [t.get_window_extent() for t in names]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    twins = [other for other in fig.axes if other not in (ax, lines.colorbar.ax)]
    assert twins and all(t.get_bbox_patch() is not None for other in twins for t in other.get_yticklabels())


def test_bar_chart_groups_rows_keeps_its_legend_off_the_bars_and_says_when_the_axis_is_cut():
    fig = plots.bar_chart(
        ["best", "baseline", "- lr", "+ lr"],
        [0.97, 0.6, 0.9, 0.8],
        [0.01, 0.02, 0.01, 0.01],
        groups=["best and baseline", "best and baseline", "leave-one-out", "path"],
        metric="val_accuracy",
        title="t",
        reference=0.97,
    )
    ax = fig.axes[0]
    assert ax.get_ylabel() == "val_accuracy (%) (axis does not start at 0)"
    assert _texts(ax.get_legend().get_texts()) == ["best and baseline", "leave-one-out", "path", "best configuration"]
    fig.canvas.draw()
    assert not ax.get_legend().get_window_extent().overlaps(ax.get_window_extent())
    low = plots.bar_chart(["a", "b"], [0.2, 0.9], [0.0, 0.0], metric="val_loss", title="t")
    assert low.axes[0].get_ylim()[0] == 0 and low.axes[0].get_ylabel() == "val_loss"


def test_chinese_labels_render_without_missing_glyphs():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = optuna_figure("optimization_history", _study(), metric="val_accuracy", lang="zh")
        slices = space_plots.slice_grid(
            analysis.slice_points(_study(), parse_spec(tiny_digits_spec())), metric="val_accuracy", lang="zh"
        )
        fig.canvas.draw()
        slices.canvas.draw()
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]
    ax = fig.axes[0]
    assert ax.get_xlabel() == "试验编号" and ax.get_ylabel() == "验证集准确率(%)（纵轴不从 0 开始）"
    assert "已剪枝（第 1 轮的值）" in _texts(slices.legends[0].get_texts())
    assert any("CJK" in family for family in matplotlib.rcParams["font.family"])


def test_ped_anova_panel_title_says_what_its_error_bar_is_or_why_there_is_none():
    from autotune.words import figures as ft

    def label(lang, interval, n):
        return ft.importance_default_label(lang, interval=interval, n=n, min_trials=10, rounds=30)

    assert label("en", True, 36) == (
        "PED-ANOVA (Optuna's default)\nerror bar: 2.5–97.5 percentiles over 30 bootstrap resamples"
    )
    assert label("en", False, 8) == (
        "PED-ANOVA (Optuna's default)\none run; too few trials for an interval (8 complete, 10 needed)"
    )
    assert label("zh", False, 8) == "PED-ANOVA（Optuna 默认）\n仅一次；试验太少，无区间（8 个完成试验，需 10 个）"
    # enough trials but no interval (a resample could not be evaluated): the plain title, no error bar
    assert label("en", False, 36) == "PED-ANOVA (Optuna's default)\none deterministic run: no error bar"


def test_the_confirmation_chart_draws_an_accuracy_interval_within_0_and_100_percent():
    """The chart shows what the confirmation's words say: a t-interval over 2 seeds can pass 100%, no accuracy can."""
    row = {"trial": 9, "mean": 0.9564, "values": [0.9652, 0.9477], "stored_value": 0.9652, "versus_top": "top"}
    record = {"metric": "val_accuracy", "seeds": 2, "ranking": [dict(row, ci95=[0.8458, 1.0670])]}
    fig = plots.confirmation_chart(record)
    drawn = [y for line in fig.axes[0].get_lines() for y in line.get_ydata()]
    assert max(drawn) == 1.0 and min(drawn) == pytest.approx(0.8458)
    assert fig.axes[0].get_ylim()[1] <= 1.01  # the axis ends at the bound, not at 106.7%
