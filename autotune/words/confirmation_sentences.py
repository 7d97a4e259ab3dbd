"""The sentences of a confirmation over seeds in English and Chinese, by key (``cf_*``): its table's headings and
verdicts, the lines of :mod:`autotune.analysis.confirmation`, and the report's line for the confirmed best.

Each value is an (English, Chinese) pair of ``str.format`` templates with the same placeholders; read them through
:func:`autotune.words.i18n.say`.
"""

from __future__ import annotations

CONFIRMATION: dict[str, tuple[str, str]] = {
    # a confirmation over seeds (autotune.analysis.confirmation.lines and its table)
    "cf_h_rank": ("rank", "排名"),
    "cf_h_trial": ("trial", "试验"),
    "cf_h_search": ("search value (1 seed)", "搜索时的值（1 个种子）"),
    "cf_h_mean": ("mean ± std ({n} seeds)", "均值 ± 标准差（{n} 个种子）"),
    "cf_h_ci": ("95% interval", "95% 置信区间"),
    "cf_h_seeds": ("per seed", "各种子的值"),
    "cf_h_p": ("paired p vs top (Holm)", "与第一名的配对检验 p（Holm 校正）"),
    "cf_h_versus": ("versus the top", "与第一名相比"),
    "cf_v_top": ("top", "第一名"),
    "cf_v_worse": ("worse", "明显更差"),
    "cf_v_indistinguishable": ("indistinguishable", "无法区分"),
    "cf_v_too_few_seeds": ("too few seeds", "种子太少"),
    "cf_v_same_difference_on_every_seed": ("same difference on every seed", "每个种子上差值相同"),
    "cf_v_diverged": ("diverged", "发散"),
    "cf_intro": (
        "Confirmed the top {k} of {complete} complete trials{study} (by their single-seed {metric}) over the "
        "same {n} seeds{seeds}, none of them a seed the search used{budget}.",
        "在相同的 {n} 个随机种子{seeds}（都不是搜索用过的种子）上复核了{study} {complete} 个完成试验中（按单种子 "
        "{metric}）排名前 {k} 的试验{budget}。",
    ),
    "cf_study": (" of study '{study}'", "研究 '{study}' 的"),
    "cf_run_budget": (
        ", {epochs} epochs per run as in the search{subset}",
        "，每次训练 {epochs} 轮，与搜索相同{subset}",
    ),
    "cf_note": ("Note: {note}.", "注：{note}。"),
    "cf_batched": (
        "Each trial's {n} seeds were trained at once, as one batched model: each seed kept its own initialisation, "
        "data order and augmentation, and the dropout masks were drawn for the batch as a whole.",
        "每个试验的 {n} 个种子作为一个批量模型同时训练：每个种子保留自己的初始化、数据顺序和数据增强，"
        "dropout 掩码则按整个批次抽取。",
    ),
    "cf_fewer": (
        "study '{study}' has {n} {which}, fewer than the {top} asked for: confirming those {n}",
        "研究 '{study}' 只有 {n} 个{which}，少于要求的 {top} 个：复核这 {n} 个",
    ),
    "cf_fewer_complete": ("complete trial(s)", "完成的试验"),
    "cf_fewer_constraints": ("complete trial(s) that meet its constraints", "满足约束的完成试验"),
    "cf_fewer_own": (" of autotune's own", "（autotune 自己训练的）"),
    "cf_hand": (
        "Note: {n} hand row(s) (trials {trials}) are not confirmed: their values come from their own training "
        "budget, not the spec's; `autotune replay --trial N` shows one reproduced at the spec's budget.",
        "注：{n} 行手工结果（试验 {trials}）不参与复核：它们的值来自各自的训练预算，而非本规格的预算；"
        "`autotune replay --trial N` 可在本规格的预算下复现其中一行。",
    ),
    "cf_all_diverged": (
        "Every confirmed trial diverged on at least one of the {n} seeds: there is no best mean.",
        "每个复核的试验都至少在 {n} 个种子中的一个上发散：没有最佳均值。",
    ),
    "cf_where": ("mean {metric} {mean}{spread}, 95% interval {ci}", "{metric} 均值 {mean}{spread}，95% 置信区间 {ci}"),
    "cf_keeps": (
        "Trial {best}, the single-seed best, keeps the best mean over {n} seeds ({where}).",
        "单种子最优的试验 {best} 在 {n} 个种子上仍是均值最佳（{where}）。",
    ),
    "cf_mean": ("mean {mean}", "均值 {mean}"),
    "cf_diverged_seed": ("diverged on a seed", "在某个种子上发散"),
    "cf_new_best": (
        "Trial {best} has the best mean over {n} seeds ({where}); the single-seed best, trial {single}, "
        "ranks {rank} of {k} ({seen}).",
        "试验 {best} 在 {n} 个种子上均值最佳（{where}）；单种子最优的试验 {single} 排第 {rank}/{k}（{seen}）。",
    ),
    "cf_same_mean": (
        "Trials {best} and {single} (the single-seed best) have the same mean over {n} seeds ({where}).",
        "试验 {best} 与单种子最优的试验 {single} 在 {n} 个种子上均值相同（{where}）。",
    ),
    "cf_choice_tie": (
        "Trial {best} and the single-seed best, trial {single}, are not measurably different over {n} "
        "seeds: a tie, so trial {single} stays the best (export, replay --trial best, ablate and sweep "
        "use it); the best changes only where a confirmation measures the single-seed best worse.",
        "试验 {best} 与单种子最优的试验 {single} 在 {n} 个种子上没有可测的差别：视为持平，试验 {single} "
        "仍是最佳（export、replay --trial best、ablate 和 sweep 都用它）；只有复核测出单种子最优更差时才会更换。",
    ),
    "cf_choice_new": (
        "The single-seed best, trial {single}, is measurably worse than trial {best} over {n} seeds: "
        "trial {best} is now the best (export, replay --trial best, ablate and sweep use it).",
        "单种子最优的试验 {single} 在 {n} 个种子上明显比试验 {best} 差：试验 {best} 现在是最佳"
        "（export、replay --trial best、ablate 和 sweep 都用它）。",
    ),
    "cf_one": ("One trial was confirmed: there is nothing to compare it with.", "只复核了一个试验：没有可比较的对象。"),
    "cf_no_test": (
        "Over {n} seeds no paired test is run (it needs at least {min}): trial(s) {trials} cannot be told "
        "apart from trial {best} (too few seeds to tell).",
        "只有 {n} 个种子，不做配对检验（至少需要 {min} 个）："
        "试验 {trials} 与试验 {best} 无法区分（种子太少，无法判断）。",
    ),
    "cf_test": (
        "paired t-test across the {n} shared seeds, Holm-corrected for {m} comparison(s)",
        "在 {n} 个共同种子上做配对 t 检验，对 {m} 次比较做 Holm 校正",
    ),
    "cf_same": (
        "Cannot be told apart from trial {best} over {n} seeds ({test}, adjusted p > {alpha}): trial(s) {trials}.",
        "在 {n} 个种子上与试验 {best} 无法区分（{test}，校正后 p > {alpha}）：试验 {trials}。",
    ),
    "cf_flat": (
        "Trial(s) {trials} differ from trial {best} by the same amount on every one of the {n} seeds: the "
        "differences have no spread, so no t-test applies and they are not counted as told apart.",
        "试验 {trials} 在全部 {n} 个种子上与试验 {best} 的差值都相同：差值没有波动，t 检验不适用，因此不算作可区分。",
    ),
    "cf_worse": (
        "Measurably worse than trial {best} over {n} seeds ({test}, adjusted p <= {alpha}): trial(s) {trials}.",
        "在 {n} 个种子上明显比试验 {best} 差（{test}，校正后 p <= {alpha}）：试验 {trials}。",
    ),
    "cf_diverged": (
        "Diverged on at least one of the {n} seeds (no mean): trial(s) {trials}.",
        "至少在 {n} 个种子中的一个上发散（无均值）：试验 {trials}。",
    ),
    "cf_budget": (
        "These {k} configurations cannot be told apart at this budget ({n} seeds each, {epochs} epochs).",
        "在当前预算下（每个 {n} 个种子，{epochs} 轮）这 {k} 个配置无法区分。",
    ),
    "cf_over": ("overstated", "高估了"),
    "cf_under": ("understated", "低估了"),
    "cf_matched": ("matched", "等于"),
    "cf_by": (" by {by}", " {by}"),
    "cf_inside": ("inside", "在"),
    "cf_outside": ("outside", "不在"),
    "cf_overstatement": (
        "The single-seed best, trial {trial}, {verb} itself{amount}: its search value {stored} against "
        "its mean {mean} over {n} fresh seeds ({inside} that mean's 95% interval {ci}).",
        "单种子最优的试验 {trial} {verb}自己{amount}：搜索时的值 {stored}，在 {n} 个新种子上的均值 {mean}"
        "（{inside}该均值的 95% 置信区间 {ci} 内）。",
    ),
    "cf_overstatement_same": (
        "The single-seed best, trial {trial}, {verb} itself{amount}: its search value {stored} against "
        "its mean {mean} over {n} fresh seeds, which all gave that value: no spread to judge the difference by.",
        "单种子最优的试验 {trial} {verb}自己{amount}：搜索时的值 {stored}，在 {n} 个新种子上的均值 {mean}"
        "（各种子的值都相同：没有离散程度可用来判断这一差异）。",
    ),
    "confirmed_line": (
        "Best over {n} seeds (confirmation): trial {trial}, mean {metric} {mean} (95% interval {ci}); "
        "{k} trials confirmed, see below",
        "{n} 个种子上的最佳（复核）：试验 {trial}，{metric} 均值 {mean}（95% 置信区间 {ci}）；"
        "共复核 {k} 个试验，见下文",
    ),
    "h_confirmation": ("Confirmation over seeds", "多随机种子复核"),
}
