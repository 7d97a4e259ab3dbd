"""The sentences of a report page in English and Chinese, by key: its summary lines, importance, the analysis
and best practice, where the time went, the trial table's words and the "by hand vs automated" section.

Each value is an (English, Chinese) pair of ``str.format`` templates with the same placeholders; read them through
:func:`autotune.words.i18n.say`, which also finds the ablation's, the confirmation's and the Word document's
sentences.
"""

from __future__ import annotations

REPORT: dict[str, tuple[str, str]] = {
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
    # the search stopped at the noise floor (autotune.analysis.stopping)
    "stopped_line": (
        "Stopped at the noise floor: {patience} finished trials in a row (trials {first} to {last}) within "
        "one seed-std ({spread}, measured over {seeds} seeds of trial {incumbent}) of the best before them "
        "({before}, trial {before_trial}); {left} trial(s) of the target of {target} not run.",
        "在噪声水平处停止：连续 {patience} 个已结束试验（试验 {first} 到 {last}）都没有比之前的最佳（{before}，"
        "试验 {before_trial}）高出一个种子标准差以上（{spread}，在试验 {incumbent} 的 {seeds} 个种子上测得）；"
        "目标 {target} 个试验中有 {left} 个未运行。",
    ),
    # the trial table's feasibility column
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
}
