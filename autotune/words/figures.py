"""The words on figures (axis labels, titles, legends) in English or Chinese; metric and parameter names
are kept as they are, except the seed reports' Chinese names of the validation metrics."""

from __future__ import annotations

from autotune.words.i18n import pick

WORDS = {
    "trial": ("trial", "试验编号"),
    "epoch": ("epoch", "轮次 (epoch)"),
    "importance": ("importance", "重要性"),
    "not_from_zero": ("axis does not start at 0", "纵轴不从 0 开始"),
    "complete_final": ("complete trial (final value)", "已完成试验（最终值）"),
    "pruned_at": ("pruned (value at epoch {epoch})", "已剪枝（第 {epoch} 轮的值）"),
    "complete_trial": ("complete trial", "已完成试验"),
    "pruned_trial": ("pruned trial (stopped early)", "已剪枝试验（提前停止）"),
    "of_complete": ("{metric} of a complete trial", "已完成试验的{metric}"),
    "best_so_far": ("best {metric} so far", "目前最佳{metric}"),
    "after_each_epoch": ("{metric} after each epoch", "每轮之后的{metric}"),
    "history_title": (
        "{metric} per complete trial (pruned: see learning curves)",
        "每个已完成试验的{metric}（已剪枝试验见学习曲线）",
    ),
    "history_title_plain": ("{metric} per complete trial", "每个已完成试验的{metric}"),
    "feasible_lines": ("solid: feasible trial, dotted: infeasible", "实线：可行试验，点线：不可行试验"),
    "infeasible": ("infeasible trial (breaks a constraint)", "不可行试验（违反约束）"),
    "curves_title": (
        "{metric} after each epoch (pruned trials stop early)",
        "每轮之后的{metric}（已剪枝试验提前停止）",
    ),
    "slice_title": ("{metric} against each parameter's value", "{metric}与各参数取值的关系"),
    "slice_colour": ("colour: trial number (darker = earlier)", "颜色：试验编号（越深越早）"),
    "contour_title": (
        "{metric} over {x} × {y}: {n} complete trials (dots); colours between them are linear "
        "interpolation, none outside them",
        "{metric}在 {x} × {y} 上的分布：{n} 个已完成试验（圆点）；其间颜色为线性插值，范围外不外推",
    ),
    "parallel_title": (
        "{metric} of each complete trial and its parameters; each axis spans its sampled range (none starts at 0)",
        "每个已完成试验的{metric}及其参数；每条纵轴只覆盖取样范围（均不从 0 开始）",
    ),
    "depth_title": (
        "Best {metric} of the complete trials per depth × width",
        "各深度 × 宽度下已完成试验的最佳{metric}",
    ),
    "widest_layer": (
        "widest layer ({per_layer}), rounded to the nearest power of two",
        "最宽层（{per_layer}），取最接近的 2 的幂",
    ),
    "log_scale": ("{name} (log scale)", "{name}（对数坐标）"),
    "importance_default": (
        "PED-ANOVA (Optuna's default)\none deterministic run: no error bar",
        "PED-ANOVA（Optuna 默认）\n确定性，仅一次：无误差棒",
    ),
    "importance_default_boot": (
        "PED-ANOVA (Optuna's default)\nerror bar: 2.5–97.5 percentiles over {rounds} bootstrap resamples",
        "PED-ANOVA（Optuna 默认）\n误差棒：{rounds} 次 bootstrap 重抽样的 2.5–97.5 百分位",
    ),
    "importance_default_few": (
        "PED-ANOVA (Optuna's default)\none run; too few trials for an interval ({n} complete, {min} needed)",
        "PED-ANOVA（Optuna 默认）\n仅一次；试验太少，无区间（{n} 个完成试验，需 {min} 个）",
    ),
    "importance_fanova": (
        "fANOVA\nmean ± std over evaluator seeds {seeds}",
        "fANOVA\n评估器随机种子 {seeds} 的均值 ± 标准差",
    ),
    "importance_fanova_one": (
        "fANOVA, evaluator seed {seed}\n(the PNG and the table: mean ± std over seeds {seeds})",
        "fANOVA，评估器随机种子 {seed}\n（PNG 与表格：随机种子 {seeds} 的均值 ± 标准差）",
    ),
    "contour_title_optuna": (
        "{metric} over {x} × {y}: {n} complete trials (dots); colours away from the dots are "
        "Optuna's interpolation, a guess",
        "{metric}在 {x} × {y} 上的分布：{n} 个已完成试验（圆点）；远离圆点处的颜色是 Optuna 的插值，仅为推测",
    ),
    "no_contour": (
        "No contour plot: fewer than two numeric parameters are ranked (a contour would interpolate "
        "between the values of a categorical parameter, which have no order).",
        "未绘制等高线图：排名中的数值参数少于两个（等高线会在无顺序的类别取值之间插值）。",
    ),
    "no_contour_few": (
        "No contour plot: {n} complete trials; a contour interpolates between its trials and needs at "
        "least {min} for its colours to be more than guesses.",
        "未绘制等高线图：只有 {n} 个已完成试验；等高线在试验之间插值，至少需要 {min} 个，颜色才不只是推测。",
    ),
    "no_complete": ("no complete trial", "无已完成试验"),
    "best_configuration": ("best configuration", "最优配置"),
    "leave_one_out": ("leave-one-out: best without the component", "逐一去除：最优配置去掉该组件"),
    "ablation_path": ("ablation path: baseline plus components, in order", "消融路径：基准依次加入组件"),
    "reference_rows": ("best and baseline", "最优与基准"),
    "confirm_title": (
        "Confirmed trials over {n} seeds, best mean first",
        "多随机种子复核的试验（{n} 个种子，均值最佳者在前）",
    ),
    "confirm_mean": ("mean and 95% interval", "均值与 95% 置信区间"),
    "confirm_worse": ("measurably worse than the top", "明显比第一名差"),
    "confirm_seed": ("one seed's value", "单个种子的值"),
    "confirm_search": ("value in the search (one seed)", "搜索时的值（一个种子）"),
    "cap_confirmation": (
        "Confirmation: the top trials over {n} seeds (mean, 95% interval, each seed)",
        "复核：排名靠前的试验在 {n} 个种子上的表现（均值、95% 置信区间、各种子）",
    ),
    "sweep_title": ("{name}: {metric} vs {param}", "{name}：{metric}随 {param} 的变化"),
    # captions of the report's figures
    "cap_pareto": ("Pareto front (infeasible trials greyed)", "帕累托前沿（不可行试验为灰色）"),
    "cap_history": (
        "Optimisation history (complete trials; pruned ones are in the learning curves)",
        "优化历史（已完成试验；已剪枝试验见学习曲线）",
    ),
    "cap_curves": ("Learning curves (pruned trials dashed)", "学习曲线（已剪枝试验为虚线）"),
    "cap_slice": ("Slice plot per parameter (complete trials)", "各参数的切片图（已完成试验）"),
    "cap_slice_pruned": (
        "Slice plot per parameter (complete trials; pruned trials at epoch {epoch})",
        "各参数的切片图（已完成试验；已剪枝试验取第 {epoch} 轮的值）",
    ),
    "cap_parallel": (
        "Parallel coordinates (complete trials; the six most important parameters by fANOVA)",
        "平行坐标图（已完成试验；按 fANOVA 最重要的六个参数）",
    ),
    "cap_contour": (
        "Contour of {metric} over the two most important numeric parameters by fANOVA ({x}, {y}; complete trials)",
        "{metric}在按 fANOVA 最重要的两个数值参数上的等高线图（{x}、{y}；已完成试验）",
    ),
    "cap_importance": ("Hyperparameter importance{suffix}", "超参数重要性{suffix}"),
    "cap_depth": (
        "Depth × width: best value of the complete trials per cell (grey: none)",
        "深度 × 宽度：每格中已完成试验的最佳值（灰色：无）",
    ),
    "ablation_title": (
        "{name}: ablation over {seeds} seeds (mean ± std)",
        "{name}：消融实验（{seeds} 个随机种子，均值 ± 标准差）",
    ),
}

#: The seed reports' Chinese names of the validation metrics (the trial table's headers)
METRIC_NAMES_ZH = {"val_accuracy": "验证集准确率", "val_loss": "验证集Loss"}
#: Metrics stored as fractions and printed in percent everywhere
PERCENT_METRICS = ("val_accuracy", "train_accuracy", "test_accuracy")


def word(key: str, lang: str, **fields: object) -> str:
    """The text ``key`` in ``lang`` ("en" or "zh"), its ``{fields}`` filled in."""
    return pick(WORDS, key, lang, **fields)


def importance_default_label(lang: str, *, interval: bool, n: int, min_trials: int, rounds: int) -> str:
    """The title of PED-ANOVA's importance bars: what its error bar is, or why it has none."""
    if interval:
        return word("importance_default_boot", lang, rounds=rounds)
    if n < min_trials:
        return word("importance_default_few", lang, n=n, min=min_trials)
    return word("importance_default", lang)


def is_percent(metric: str) -> bool:
    return metric in PERCENT_METRICS


def value_text(metric: str, value: float) -> str:
    """A metric's value as every line autotune prints gives it: accuracies in percent (97.91%)."""
    return f"{value * 100:.2f}%" if is_percent(metric) else f"{value:.4f}"


def metric_name(metric: str, lang: str) -> str:
    """The metric as a title names it: its own name, or in Chinese the seed reports' name."""
    return METRIC_NAMES_ZH.get(metric, metric) if lang == "zh" else metric


def metric_label(metric: str, lang: str) -> str:
    """An axis or colour-bar label for the metric, with "(%)" when it is shown in percent."""
    name = metric_name(metric, lang)
    if not is_percent(metric):
        return name
    return f"{name}(%)" if lang == "zh" else f"{name} (%)"


def not_from_zero(label: str, lang: str) -> str:
    """``label`` of an axis that does not start at 0, saying so."""
    return f"{label}（{word('not_from_zero', lang)}）" if lang == "zh" else f"{label} ({word('not_from_zero', lang)})"
