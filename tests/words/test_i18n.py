"""Report words in English and Chinese: every sentence in both, every stored remark translated."""

from __future__ import annotations

import re
import string

import pytest

from autotune.execution.objective import remark
from autotune.spec.search_rules import PrunerSpec
from autotune.training.loop import EpochStats, FitResult
from autotune.words import i18n

#: Words a Chinese remark keeps as they are (the seeds write Loss and MSE in Latin letters; Hyperband is a name).
KEPT = {"Loss", "MSE", "Hyperband", "pp"}


def _result(*accs, train=None, losses=None, diverged=False, stopped=False):
    losses = losses or [1.0 / (i + 1) for i in range(len(accs))]
    hist = [EpochStats(i + 1, 0.1, (train or accs)[i], losses[i], a, 1.0) for i, a in enumerate(accs)]
    return FitResult(
        history=hist, diverged=diverged, diverged_epoch=len(accs) if diverged else None, stopped_early=stopped
    )


def _english_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text)) - KEPT


def test_every_sentence_exists_in_both_languages_with_the_same_placeholders():
    def fields(t):
        return {f for _, f, _, _ in string.Formatter().parse(t) if f}

    for key, (en, zh) in i18n.TEXT.items():
        assert fields(en) == fields(zh), key
        assert en != zh or not _english_words(zh), key


# one result per branch of objective.remark (classification and regression), and every pruner's reason
RESULTS = [
    (_result(0.5, 0.2131), True, None),
    (_result(0.95, 0.96, train=[0.99, 0.999]), True, None),
    (_result(0.9, 0.95, 0.96, losses=[0.3, 0.1, 0.2]), True, None),
    (_result(0.6, 0.7, 0.704, train=[0.5, 0.55, 0.569], losses=[0.9, 0.87, 1.03]), True, None),
    (_result(0.90, 0.95), True, None),
    (_result(0.97, 0.972), True, None),
    (_result(0.5, diverged=True), True, None),
    (_result(0.5, 0.6, stopped=True), True, None),
    (_result(0.5, 0.6, stopped=True), True, PrunerSpec(name="successive_halving", reduction_factor=3)),
    (_result(0.5, 0.6, stopped=True), True, PrunerSpec(name="hyperband", reduction_factor=4)),
    (_result(None, None, losses=[1.0, 0.5]), False, None),
    (_result(None, None, losses=[1.0, 0.99]), False, None),
]


@pytest.mark.parametrize("result, classification, pruner", RESULTS)
def test_every_remark_the_objective_writes_reads_in_chinese_with_its_numbers(result, classification, pruner):
    english = remark(result, classification=classification, pruner=pruner)
    chinese = i18n.remark(english, "zh")
    assert chinese != english
    assert not _english_words(chinese), chinese

    def numbers(text):  # word order may differ
        return sorted(re.findall(r"\d+(?:\.\d+)?", text))

    assert numbers(chinese) == numbers(english)


def test_a_remark_in_english_or_unknown_is_kept_as_stored():
    assert i18n.remark("converged: validation accuracy 97.20%", "en") == "converged: validation accuracy 97.20%"
    assert i18n.remark("worker lost", "zh") == "worker lost"
    assert i18n.remark("converged: validation accuracy 97.20%", "zh") == "已收敛：验证集准确率 97.20%"


def test_states():
    assert [i18n.state(s, "zh") for s in ("COMPLETE", "pruned", "FAIL", "RUNNING")] == [
        "完成",
        "已剪枝",
        "失败",
        "运行中",
    ]
    assert i18n.state("PRUNED", "en") == "pruned"


def test_the_chinese_report_page_is_chinese_through(write_spec, tmp_path):
    """#31, 9: the zh page kept English init names (normal), "pp" and an English importance header."""
    import optuna

    from tests.conftest import invoke, tiny_digits_spec

    spec = tiny_digits_spec(
        pruner={"name": "none"},
        space={"lr": {"low": 1.0e-3, "high": 3.0e-2, "log": True}, "init": ["normal", "xavier_uniform"]},
    )
    path = write_spec(spec)
    assert invoke("run", "--study", path, "--trials", "6", "-q").exit_code == 0
    assert invoke("report", "--study", path, "--lang", "zh", "--out", "zh").exit_code == 0
    md = (tmp_path / "zh" / "report.md").read_text(encoding="utf-8")
    trials = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db").trials
    section = md.split("\n## 试验记录\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")][1:]
    assert [r[4] for r in rows] == [
        {"normal": "正态", "xavier_uniform": "Xavier均匀"}[t.params["init"]] for t in trials
    ]
    assert " pp" not in md and "个百分点" in md
    assert "| 参数 | 默认（PED-ANOVA" in md and "default (" not in md
