"""The words of the Word document in English and Chinese, by key (``doc_*``, ``setup_*``): table and figure labels,
the headings, the set-up table built from the spec, and the trial table's captions.

Each value is an (English, Chinese) pair of ``str.format`` templates with the same placeholders; read them through
:func:`autotune.words.i18n.say`.
"""

from __future__ import annotations

DOCUMENT: dict[str, tuple[str, str]] = {
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
    "setup_env_fused": (" with the fused training step", "，融合训练步骤"),
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
