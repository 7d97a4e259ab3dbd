"""The words of reports in English and Chinese: sentences by key, trial states, and the trial remarks.

Sentences are ``str.format`` templates with the same placeholders in both languages. Remarks are
stored in English with each trial (``remark`` user attribute, written by :mod:`autotune.execution.objective`);
:func:`remark` translates the stored text by pattern, so studies made before Chinese reports existed
read in Chinese too. The Chinese wording follows the seed reports' where they have one (过拟合,
不收敛, 收敛慢, 训练集Loss, 验证集准确率).
"""

from __future__ import annotations

import re
from typing import Any

from autotune.errors import OptionError

LANGS = ("en", "zh")


def check_lang(lang: Any) -> None:
    """Refuse a ``lang`` autotune does not write (an :class:`OptionError`), before a command does any work."""
    if lang not in LANGS:
        raise OptionError(f"lang {lang!r} is not a report language; allowed: {', '.join(LANGS)}; nothing was written")


TEXT: dict[str, tuple[str, str]] = {
    "title": ("Report: {study}", "实验报告：{study}"),
    "study_line": ("Study: {study} (spec {spec}: {description})", "研究：{study}（配置 {spec}：{description}）"),
    "data_line": ("Data and model: {dataset}, {model}; {goal}", "数据与模型：{dataset}，{model}；{goal}"),
    "goal_one": ("metric {metric} ({direction})", "指标 {metric}（{direction}）"),
    "goal_many": ("objectives {listed}", "目标 {listed}"),
    "maximize": ("maximize", "越大越好"),
    "minimize": ("minimize", "越小越好"),
    "storage_line": ("Storage: {storage}", "存储：{storage}"),
    "states_line": ("Trials by state: {states}", "各状态的试验数：{states}"),
    "none": ("none", "无"),
    "constraints_line": (
        "Constraints: {constraints}: {feasible} complete trials feasible, infeasible: {infeasible}",
        "约束：{constraints}：{feasible} 个完成的试验满足约束，不满足的试验：{infeasible}",
    ),
    "best_line": (
        "Best {metric} in the search (one seed per trial): {best}",
        "搜索中的最优 {metric}（每个试验一个种子）：{best}",
    ),
    "best_value": ("{value} (trial {trial})", "{value}（试验 {trial}）"),
    "best_params_line": ("Best parameters: {params}", "最优参数：{params}"),
    "time_line": (
        "Time spent: {trial_seconds} s in trials, {wall_seconds} s from first start to last finish",
        "耗时：试验内共 {trial_seconds} 秒，从第一个试验开始到最后一个结束共 {wall_seconds} 秒",
    ),
    "pruning_line": (
        "Pruning: {trained} epochs trained of {budget} a no-pruning run would have used (saved {saved})",
        "剪枝：共训练 {trained} 轮（epoch），不剪枝需 {budget} 轮（节省 {saved}）",
    ),
    "no_trials": ("The study has no trials yet.", "该研究还没有试验。"),
    "no_complete": (
        "The study has no complete trial: no best value, importance or analysis.",
        "该研究没有完成的试验：无最优值、重要性或分析。",
    ),
    "importance_left_out": (
        "Importance ({what}) leaves out {params}: some complete trials have no value for them in "
        "the search space (a conditional parameter, or a hand-table value outside the space).",
        "重要性（{what}）未包括 {params}：并非每个完成的试验都有它在搜索空间内的取值（条件参数，或手工表格中"
        "超出搜索空间的值）。",
    ),
    "importance_missing": ("Importance ({what}) not computed: {error}.", "未计算重要性（{what}）：{error}。"),
    "needs_two": ("needs at least 2 complete trials", "至少需要 2 个完成的试验"),
    "multi_note": (
        "Multi-objective study: no trial was pruned (Optuna's pruners need one objective); the "
        "per-parameter analysis below uses the first objective, {metric}.",
        "多目标研究：没有试验被剪枝（Optuna 的剪枝器只支持单目标）；下面的逐参数分析使用第一个目标 {metric}。",
    ),
    "h_pareto": ("Pareto front", "帕累托前沿"),
    "pareto_intro": (
        "The non-dominated feasible trials (Optuna's study.best_trials).",
        "满足约束且不被支配的试验（Optuna 的 study.best_trials）。",
    ),
    "pareto_empty": ("No complete feasible trial yet.", "还没有满足约束的完成试验。"),
    "h_trials": ("Trials", "试验记录"),
    "h_importance": ("Hyperparameter importance{suffix}", "超参数重要性{suffix}"),
    "for_metric": (" for {metric}", "（{metric}）"),
    "parameter": ("parameter", "参数"),
    "not_computed": ("not computed ({error})", "未计算（{error}）"),
    "imp_default": ("PED-ANOVA, one deterministic run", "PED-ANOVA，确定性算法，运行一次"),
    "imp_fanova": ("mean ± std over 3 evaluator seeds", "3 个评估器随机种子的均值 ± 标准差"),
    "imp_not_resampled": (
        "{how}; no bootstrap: it would nearly double the report's time",
        "{how}；未做 bootstrap：会使报告耗时接近翻倍",
    ),
    "imp_rank_head": ("{evaluator} rank (≈ ranks whose interval overlaps)", "{evaluator} 排名（≈ 后为区间重叠的名次）"),
    "imp_interval_head": (
        "{evaluator} interval: 2.5–97.5 percentiles over {rounds} bootstrap resamples of the {n} complete trials",
        "{evaluator} 区间：对 {n} 个完成试验做 {rounds} 次 bootstrap 重抽样的 2.5–97.5 百分位",
    ),
    "imp_pair": ("ranks {a} and {b} ({x}, {y})", "第 {a} 与第 {b} 名（{x}、{y}）"),
    "imp_overlap": (
        "{pairs} cannot be told apart: their bootstrap intervals overlap ({evaluator}, {rounds} resamples "
        "of {n} complete trials).",
        "{pairs}无法区分：其 bootstrap 区间相互重叠（{evaluator}，对 {n} 个完成试验重抽样 {rounds} 次）。",
    ),
    "imp_overlap_all": (
        "No two neighbours in the {evaluator} ranking can be told apart: the bootstrap intervals of "
        "every pair of adjacent ranks overlap ({rounds} resamples of {n} complete trials).",
        "{evaluator} 排名中任何相邻两名都无法区分：每一对相邻名次的 bootstrap 区间都相互重叠（对 {n} 个"
        "完成试验重抽样 {rounds} 次）。",
    ),
    "imp_apart": (
        "No two neighbours in the {evaluator} ranking have overlapping bootstrap intervals ({rounds} "
        "resamples of {n} complete trials).",
        "{evaluator} 排名中相邻两名的 bootstrap 区间都不重叠（对 {n} 个完成试验重抽样 {rounds} 次）。",
    ),
    "imp_too_few": (
        "Too few trials for an interval: {n} complete trials, {min} needed for a bootstrap interval of "
        "the {evaluator} importance.",
        "试验太少，无法给出区间：只有 {n} 个完成试验，{evaluator} 重要性的 bootstrap 区间至少需要 {min} 个。",
    ),
    "imp_failed": (
        "No interval: {evaluator} could not be computed on every bootstrap resample of the {n} complete trials.",
        "无区间：{evaluator} 无法在 {n} 个完成试验的每一次 bootstrap 重抽样上计算。",
    ),
    "h_figures": ("Figures", "图表"),
    "data": ("data", "数据"),
    "h_analysis": ("Analysis", "分析"),
    "h_practice": ("Best practice (from these trials)", "最佳实践（基于本次试验）"),
    "h_leads": (
        'Leads to test (from {n} complete trials: "best practice" needs at least {min} whose two '
        "importances agree on the first place)",
        "值得验证的线索（基于 {n} 个完成试验：称为“最佳实践”至少需要 {min} 个，且两种重要性排名第一的参数相同）",
    ),
    "trial_set": (
        "Importance and analysis use autotune's own {n} complete trials; the {hand} imported hand rows, "
        "measured with their own training budget, are compared apart (hand table vs autotune).",
        "重要性与分析只用 autotune 自己的 {n} 个完成试验；导入的 {hand} 行手工结果使用各自的训练预算，"
        "单独比较（手工表格与 autotune 对比）。",
    ),
    "not_enough": ("Not enough trials.", "试验不足。"),
    "analysis_intro": (
        "Each line compares {basis}; a value or range is named best or worst only when at least {min} trials back "
        "it; ranges are tertiles of the sampled values. Trials differ in every parameter at once, so each line mixes "
        "in the others' effects: treat these as leads to test (autotune sweep, autotune ablate), not findings.",
        "每一行比较的是{basis}；某个取值或区间只有在至少 {min} 个试验支持时才被称为最优或最差；区间为采样值的三分位。"
        "各试验同时改变所有参数，所以每一行都混有其他参数的影响：请把它们当作待验证的线索（autotune sweep、"
        "autotune ablate），而不是结论。",
    ),
    "basis_final": ("the final {metric} of {n} complete trials", "全部 {n} 个完成试验的最终 {metric}"),
    "basis_epoch": (
        "{metric} at epoch {epoch}, the latest epoch every finished trial reached, over all {n} finished "
        "trials ({pruned} of them pruned, at or after that epoch)",
        "全部 {n} 个已结束试验（其中 {pruned} 个在该轮或之后被剪枝）在第 {epoch} 轮（所有已结束试验都达到的最后"
        "一轮）的 {metric}",
    ),
    "confounded": (
        "{a} and {b} took the same values in the same trials, so their effects cannot be told apart from these trials.",
        "{a} 与 {b} 在相同的试验中取值完全对应，因此无法从这些试验中区分二者的影响。",
    ),
    "value": ("value", "取值"),
    "range": ("range", "区间"),
    "too_few": (
        "{param}: too few trials to tell (trials per {kind}: {counts}; {min} needed).",
        "{param}：试验太少，无法判断（每个{kind}的试验数：{counts}；至少需要 {min} 个）。",
    ),
    "effect": (
        "{param}: best {kind} {best} (mean {best_mean}, {best_n} trials), worst {worst} ({worst_mean}, "
        "{worst_n} trials): difference {diff}.",
        "{param}：最优{kind} {best}（均值 {best_mean}，{best_n} 个试验），最差 {worst}（{worst_mean}，"
        "{worst_n} 个试验）：相差 {diff}。",
    ),
    "practice_head": (
        "Ranked by Optuna's default importance (PED-ANOVA, complete trials only){tail}",
        "按 Optuna 默认的重要性（PED-ANOVA，仅用完成的试验）排序{tail}",
    ),
    "practice_differs": (
        "; fANOVA, the importance the contour and parallel-coordinate plots use, ranks {first} first instead.",
        "；fANOVA（等高线图和平行坐标图所用的重要性）则把 {first} 排在第一。",
    ),
    "practice_agrees": ("; fANOVA agrees on the first place.", "；fANOVA 的第一名与之相同。"),
    "practice_line": (
        "{param} (importance {importance}): best {kind} {best} (mean {metric} {best_mean} over {best_n} "
        "trials) vs worst {worst} ({worst_mean} over {worst_n} trials).",
        "{param}（重要性 {importance}）：最优{kind} {best}（{best_n} 个试验的 {metric} 均值 {best_mean}），"
        "最差 {worst}（{worst_n} 个试验，{worst_mean}）。",
    ),
    "time_parts_line": ("Time in {n} timed trial(s), {total} s: {parts}.", "{n} 个计时试验共 {total} 秒：{parts}。"),
    "part_build": ("build", "构建模型"),
    "part_train": ("train", "训练"),
    "part_evaluate": ("evaluate", "验证集评估"),
    "part_storage": ("storage", "数据库读写"),
    "part_artifacts": ("artifacts", "笔记与检查点"),
    "part_other": ("other", "其他"),
    "full_stop": (".", "。"),
    "sep": (", ", "，"),
    "data_link": ("data: `{file}`", "数据：`{file}`"),
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
    "confirmed_line": (
        "Best over {n} seeds (confirmation): trial {trial}, mean {metric} {mean} (95% interval {ci}); "
        "{k} trials confirmed, see below",
        "{n} 个种子上的最佳（复核）：试验 {trial}，{metric} 均值 {mean}（95% 置信区间 {ci}）；"
        "共复核 {k} 个试验，见下文",
    ),
    "stopped_line": (
        "Stopped at the noise floor: {patience} finished trials in a row (trials {first} to {last}) within "
        "one seed-std ({spread}, measured over {seeds} seeds of trial {incumbent}) of the best before them "
        "({before}, trial {before_trial}); {left} trial(s) of the target of {target} not run.",
        "在噪声水平处停止：连续 {patience} 个已结束试验（试验 {first} 到 {last}）都没有比之前的最佳（{before}，"
        "试验 {before_trial}）高出一个种子标准差以上（{spread}，在试验 {incumbent} 的 {seeds} 个种子上测得）；"
        "目标 {target} 个试验中有 {left} 个未运行。",
    ),
    "h_confirmation": ("Confirmation over seeds", "多随机种子复核"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    # hand tables (autotune import): the trial table's marker and the "by hand vs automated" section
    "hand_marker": (" (hand)", "（手工）"),
    "h_hand": ("By hand vs automated", "手工调参与自动搜索"),
    "hand_line": (
        "By hand: best {metric} {value} ({where}, trial {trial}) of {n} imported rows with a result; epochs: {epochs}.",
        "手工：{n} 行导入的有结果记录中，最优 {metric} 为 {value}（{where}，试验 {trial}）；训练轮数：{epochs}。",
    ),
    "hand_where": ("{table} row {row}", "{table} 第 {row} 行"),
    "epochs_unrecorded": ("not recorded", "未记录"),
    "auto_line": (
        "Automated: best {metric} {value} (trial {trial}, {epochs} epochs) of {n} complete trials autotune "
        "trained; {trained} epochs trained in all.",
        "自动搜索：autotune 训练完成的 {n} 个试验中，最优 {metric} 为 {value}（试验 {trial}，{epochs} 轮）；"
        "共训练 {trained} 轮。",
    ),
    "auto_none": (
        "Automated: no complete trial trained by autotune yet.",
        "自动搜索：还没有 autotune 训练完成的试验。",
    ),
    "hand_better": (
        "autotune's best is {diff} better than the hand table's best.",
        "autotune 的最优值比手工表格的最优值好 {diff}。",
    ),
    "hand_worse": (
        "autotune's best is {diff} worse than the hand table's best.",
        "autotune 的最优值比手工表格的最优值差 {diff}。",
    ),
    "hand_equal": ("autotune's best equals the hand table's best.", "autotune 的最优值与手工表格的最优值相同。"),
    "hand_caveat": (
        "The hand values were measured by the table's authors, on their own data split and budget; "
        "autotune's on this study's validation split with at most {max_epochs} epochs per trial: an "
        "indication, not a controlled comparison.",
        "手工结果由表格作者在其自己的数据划分和训练预算下测得；autotune 的结果基于本研究的验证集，每个试验最多 "
        "{max_epochs} 轮：仅供参考，并非严格对照。",
    ),
    # the Word document (autotune report --format docx) and the tables written alone
    "doc_table_label": ("Table {n}", "表 {n}"),
    "doc_figure_label": ("Figure {n}", "图 {n}"),
    "doc_caption_sep": (". ", "  "),
    "h_setup": ("Set-up", "实验设置"),
    "h_summary": ("Results in brief", "结果概要"),
    "h_ablation": ("Ablation", "消融实验"),
    "setup_caption": ("The study's set-up, from its spec", "本研究的实验设置（来自研究配置）"),
    "setup_item": ("item", "项目"),
    "setup_value": ("setting", "设置"),
    "setup_study": ("Study", "研究"),
    "setup_study_value": ("{study} (spec {spec}: {description})", "{study}（配置 {spec}：{description}）"),
    "setup_data": ("Data", "数据"),
    "setup_split": (
        "{dataset}: {validation} of the training set held out for validation (split with seed {seed}){subset}; "
        "the test split is not used by the search",
        "{dataset}：从训练集中划出 {validation}作为验证集（划分种子 {seed}）{subset}；搜索不使用测试集",
    ),
    "abl_reduced": (
        "Every row of this ablation trained {epochs} epoch(s){subset}, a smaller budget than the search's "
        "{trial_epochs}: its rows compare with each other, not with the trial table or the confirmation, "
        "and what it finds holds at that budget.",
        "本消融实验的每一行只训练了 {epochs} 轮{subset}，少于搜索时的 {trial_epochs} 轮：各行只能相互比较，"
        "不能与试验记录或多随机种子复核的数值比较，其结论只在这一预算下成立。",
    ),
    "setup_examples": ("{n} examples", "{n} 个样本"),
    "setup_subset": ("; trials train on the first {n} training examples", "；试验只用前 {n} 个训练样本训练"),
    "setup_model": ("Model", "模型"),
    "setup_goal": ("Goal", "目标"),
    "setup_space": ("Search space", "搜索空间"),
    "setup_fixed": ("Fixed", "固定参数"),
    "setup_budget": ("Budget", "预算"),
    "setup_budget_value": (
        "{trials} trials, at most {epochs} epochs each; sampler {sampler}; pruner {pruner}; precision {precision}",
        "{trials} 个试验，每个最多 {epochs} 轮；采样器 {sampler}；剪枝器 {pruner}；精度 {precision}",
    ),
    "setup_seeds": ("Seeds", "随机种子"),
    "setup_env": ("Environment", "运行环境"),
    "setup_env_runs": (
        "{n} trial(s) trained on {device} with {threads} torch thread(s) in {precision}",
        "{n} 个试验在 {device} 上训练，{threads} 个 torch 线程，精度 {precision}",
    ),
    "sep_semicolon": ("; ", "；"),
    "setup_seeds_value": (
        "study seed {seed}: the data split and the sampler derive from it, and each trial's training "
        "seed, recorded with the trial, so that every trial replays exactly",
        "研究种子 {seed}：数据划分、采样器和每个试验的训练种子都由它派生；每个试验记录自己的种子，可精确复现",
    ),
    "log_scale": ("log", "对数"),
    "trials_caption": (
        "Every trial in the seed reports' table form ({n} trials)",
        "全部试验，按手工调参表的格式（{n} 个试验）",
    ),
    "trials_caption_top": (
        "The {top} best of {n} trials by {metric}, in trial order; every trial is in data/trials.csv",
        "{n} 个试验中 {metric} 最好的 {top} 个（按试验编号排列）；全部试验见 data/trials.csv",
    ),
    "ablation_other_lang": (
        "An ablation of this study is stored in another language ({langs}); run `autotune ablate "
        "--lang {lang}` to include it here.",
        "本研究已有其他语言（{langs}）的消融实验；运行 `autotune ablate --lang {lang}` 可将其加入本报告。",
    ),
}

STATES = {"complete": "完成", "pruned": "已剪枝", "fail": "失败", "running": "运行中", "waiting": "等待中"}


def pick(table: dict[str, tuple[str, str]], key: str, lang: str, /, **values: object) -> str:
    """``table[key]`` (an (English, Chinese) pair) in ``lang``, its ``{values}`` filled in: the one lookup
    behind the report's sentences, the figures' words and the tables' headers."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}.")
    return table[key][LANGS.index(lang)].format(**values) if values else table[key][LANGS.index(lang)]


def say(lang: str, key: str, **values: object) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in."""
    return pick(TEXT, key, lang, **values)


#: Initialisations as the seed reports write them (their 初始化方法 column), for Chinese pages.
INITS_ZH = {
    "default": "默认",
    "zeros": "零",
    "normal": "正态",
    "uniform": "均匀",
    "xavier_uniform": "Xavier均匀",
    "xavier_normal": "Xavier高斯",
    "kaiming_uniform": "He均匀",
    "kaiming_normal": "He正态",
    "orthogonal": "正交",
    "sparse": "稀疏",
}


def init_name(name: str, lang: str) -> str:
    """An initialisation as a page in ``lang`` names it (``normal`` is 正态 on a Chinese page)."""
    return name if lang == "en" else INITS_ZH.get(name, name)


def points(lang: str) -> str:
    """The unit of a difference between two accuracies: percentage points."""
    return "pp" if lang == "en" else "个百分点"


def evaluator(name: str, lang: str) -> str:
    """An importance evaluator's column name: Optuna's default (PED-ANOVA) or fanova."""
    return {"default": ("default", "默认"), "fanova": ("fanova", "fANOVA")}.get(name, (name, name))[lang == "zh"]


def state(name: str, lang: str) -> str:
    """A trial state (``complete``, ``PRUNED``, …) as the report prints it."""
    return name.lower() if lang == "en" else STATES.get(name.lower(), name.lower())


_NUM = r"([-+0-9.e%]+|nan|inf)"
#: (English pattern of a stored remark, its Chinese form); groups keep the numbers as they were printed.
REMARKS: list[tuple[str, str]] = [
    (r"diverged: non-finite loss in epoch (\d+)", r"发散：第 \1 轮出现非有限的 Loss"),
    (r"pruned after epoch (\d+): (.*)", r"第 \1 轮后被剪枝：\2"),
    (rf"did not converge: validation accuracy {_NUM}", r"不收敛：验证集准确率 \1"),
    (
        rf"overfitting: train {_NUM} vs validation {_NUM}, validation loss {_NUM} \(best {_NUM}\)",
        r"过拟合：训练集准确率 \1，验证集准确率 \2，验证集Loss \3（最低 \4）",
    ),
    (
        rf"overfitting: validation loss rose to {_NUM} from its best {_NUM} \(train {_NUM} vs validation {_NUM}\)",
        r"过拟合：验证集Loss 从最低的 \2 升至 \1（训练集准确率 \3，验证集准确率 \4）",
    ),
    (
        rf"unstable: validation loss rose to {_NUM} \(best {_NUM}\) while training accuracy stayed at {_NUM}",
        r"不稳定：验证集Loss 升至 \1（最低 \2），训练集准确率保持在 \3",
    ),
    (
        rf"slow convergence: still \+{_NUM} pp in the last epoch, more epochs may help",
        r"收敛慢：最后一轮验证集准确率仍提高 \1 个百分点，增加轮数可能有帮助",
    ),
    (rf"converged: validation accuracy {_NUM}", r"已收敛：验证集准确率 \1"),
    (
        rf"slow convergence: validation loss still fell {_NUM} in the last epoch",
        r"收敛慢：最后一轮验证集Loss 仍下降 \1",
    ),
    (rf"converged: validation MSE {_NUM}", r"已收敛：验证集 MSE \1"),
]
#: Why a trial was pruned (the text after "pruned after epoch N: ").
PRUNED_BECAUSE: list[tuple[str, str]] = [
    (
        r"not in the best 1/(\d+) of the trials at this rung \(successive halving\)",
        r"在该检查点未进入前 1/\1（逐次减半）",
    ),
    (r"not in the best 1/(\d+) of its Hyperband bracket at this rung", r"在其 Hyperband 分组的该检查点未进入前 1/\1"),
    (r"below the median of earlier trials at that epoch", r"低于之前的试验在同一轮的中位数"),
]


def remark(text: str, lang: str) -> str:
    """A stored (English) remark in ``lang``; a remark no pattern knows is returned as stored."""
    if lang == "en" or not text:
        return text
    for pattern, chinese in REMARKS:
        match = re.fullmatch(pattern, text)
        if match:
            out = match.expand(chinese)
            if pattern.startswith("pruned"):
                why = match.group(2)
                for why_pattern, why_chinese in PRUNED_BECAUSE:
                    hit = re.fullmatch(why_pattern, why)
                    if hit:
                        out = out.replace(why, hit.expand(why_chinese))
                        break
            return out
    return text
