"""The sentences of an ablation and a sweep in English and Chinese, by key (``abl_*``, ``sweep_*``): the verdict
of :mod:`autotune.analysis.ablation`, and the captions that say what was re-trained and on what budget.

Each value is an (English, Chinese) pair of ``str.format`` templates with the same placeholders; read them through
:func:`autotune.words.i18n.say`.
"""

from __future__ import annotations

ABLATION: dict[str, tuple[str, str]] = {
    # the ablation verdict (autotune.analysis.ablation.ablation_verdict)
    "abl_nothing": (
        "The best configuration equals the baseline: nothing to ablate.",
        "最优配置与基准相同：没有可消融的组件。",
    ),
    "abl_one_seed": (
        "One seed per configuration: no seed-to-seed spread can be measured, so this ablation cannot tell "
        "a component's effect from seed noise (too few seeds to tell; run it with --seeds {min} or more).",
        "每个配置只有一个随机种子：无法测量种子间的波动，因此本次消融无法区分组件的影响与随机种子噪声"
        "（种子太少，无法判断；请用 --seeds {min} 或更多重新运行）。",
    ),
    "abl_no_test": (
        "Over {n} seed(s) no paired test is run (it needs at least {min}): differences are judged against "
        "one seed standard deviation of the best configuration only.",
        "只有 {n} 个随机种子，不做配对检验（至少需要 {min} 个）：差异只与最优配置的一个种子标准差比较。",
    ),
    "abl_p": (", paired p={p}", "，配对检验 p={p}"),
    "abl_critical": (
        "Most critical component: {component} (removing it changes {metric} by {change} over {n} seeds{p}).",
        "最关键的组件：{component}（去掉后 {metric} 变化 {change}，{n} 个随机种子{p}）。",
    ),
    "abl_also": ("Also measurably worse without: {items}.", "去掉后同样明显变差的还有：{items}。"),
    "abl_none_critical": (
        "No single component's removal changed {metric} measurably over {n} seeds.",
        "在 {n} 个随机种子上，去掉任何单个组件都没有使 {metric} 产生可测量的变化。",
    ),
    "abl_helps": (
        "Removing {component} improves {metric} by {change} over {n} seeds{p}: the best trial's value of it "
        "is not the better one here.",
        "去掉 {component} 反而使 {metric} 提高 {change}（{n} 个随机种子{p}）："
        "最优试验中它的取值在这里并不是更好的那个。",
    ),
    "abl_null": (
        "No measurable difference (within one seed standard deviation of the best{or_p}): {components}.",
        "无可测量差异（在最优配置的一个种子标准差以内{or_p}）：{components}。",
    ),
    "abl_or_p": (", or paired p > 0.05", "，或配对检验 p > 0.05"),
    "abl_above_tie": (
        "A configuration on the ablation path (+ {component}) scores {change} above the best trial's "
        "configuration over the same {n} seeds{p}, within the noise (not measurable by the rule above): "
        "a tie, too few seeds to tell.",
        "消融路径上的一个配置（+ {component}）在相同的 {n} 个随机种子上比最优试验的配置高 {change}{p}，"
        "但在噪声范围内（按上述规则不可测）：视为持平，种子太少，无法判断。",
    ),
    "abl_batched": ("; trained at once, as one batched model", "；作为一个批量模型同时训练"),
    "abl_caption": (
        "Ablation of study '{study}', trial {trial} ({basis}), against the baseline ({baseline}): {k} "
        "seed(s) per row ({seeds}), {epochs} epoch(s) per run (the trial trained {trial_epochs}){subset}.",
        "消融实验：研究 '{study}' 的试验 {trial}（{basis}），基准为{baseline}：每行 {k} 个随机种子（{seeds}），"
        "每次训练 {epochs} 轮（该试验训练了 {trial_epochs} 轮）{subset}。",
    ),
    "sweep_caption": (
        "Sweep of {param} in study '{study}', every other value held at trial {trial}'s ({basis}): "
        "{k} seed(s) per value ({seeds}), {epochs} epoch(s) per run (the trial trained "
        "{trial_epochs}){subset}.",
        "单因素实验：研究 '{study}' 中改变 {param}，其余取值固定为试验 {trial} 的取值（{basis}）：每个取值 "
        "{k} 个随机种子（{seeds}），每次训练 {epochs} 轮（该试验训练了 {trial_epochs} 轮）{subset}。",
    ),
    "sweep_chosen": ("the trial named by --start", "--start 指定的试验"),
    "abl_subset": (", {n} training examples", "，{n} 个训练样本"),
    "abl_basis_search": ("the search's best", "搜索得到的最优"),
    "abl_basis_confirmed": ("the confirmed best", "复核后的最优"),
    "abl_basis_tie": ("the search's best; its confirmation found a tie", "搜索得到的最优；复核结果为持平"),
    "abl_base_defaults": ("the spec's defaults", "配置中的默认值"),
    "abl_base_trial": ("trial {n}", "试验 {n}"),
    "abl_beyond": (
        "A configuration on the ablation path (+ {component}) beats the best trial's configuration by "
        "{change} over the same {n} seeds{p}: the search's best is not the best configuration known; "
        "replay it with more seeds before you rely on it.",
        "消融路径上的一个配置（+ {component}）在相同的 {n} 个随机种子上比最优试验的配置好 {change}{p}："
        "搜索得到的最优并不是已知的最优配置；依赖它之前请用更多随机种子重放。",
    ),
    "abl_objective": (
        "For {metric} ({direction}): removing {component} changes it most, by {delta} (best configuration: {best}).",
        "对 {metric}（{direction}）：去掉 {component} 使它变化最大，变化 {delta}（最优配置：{best}）。",
    ),
    # an ablation trained on a smaller budget than the search's
    "abl_reduced": (
        "Every row of this ablation trained {epochs} epoch(s){subset}, a smaller budget than the search's "
        "{trial_epochs}: its rows compare with each other, not with the trial table or the confirmation, "
        "and what it finds holds at that budget.",
        "本消融实验的每一行只训练了 {epochs} 轮{subset}，少于搜索时的 {trial_epochs} 轮：各行只能相互比较，"
        "不能与试验记录或多随机种子复核的数值比较，其结论只在这一预算下成立。",
    ),
}
