"""The words of reports in English and Chinese: sentences by key, trial states, and the trial remarks.

Sentences are ``str.format`` templates with the same placeholders in both languages, kept by topic: the keys
``abl_*`` and ``sweep_*`` in :mod:`autotune.words.ablation_sentences`, ``cf_*`` in
:mod:`autotune.words.confirmation_sentences`, ``doc_*`` and ``setup_*`` (the Word document) in
:mod:`autotune.words.document_sentences`, and the report page's in :mod:`autotune.words.report_sentences`;
:func:`say` finds any of them. Remarks are stored in English with each trial (``remark`` user attribute, written
by :mod:`autotune.execution.objective`); :func:`remark` translates the stored text by pattern, so studies made
before Chinese reports existed read in Chinese too. The Chinese wording follows the seed reports' where they have
one (过拟合, 不收敛, 收敛慢, 训练集Loss, 验证集准确率).
"""

from __future__ import annotations

import re
from typing import Any

from autotune.errors import OptionError
from autotune.words.ablation_sentences import ABLATION
from autotune.words.confirmation_sentences import CONFIRMATION
from autotune.words.document_sentences import DOCUMENT
from autotune.words.report_sentences import REPORT

LANGS = ("en", "zh")


def check_lang(lang: Any) -> None:
    """Refuse a ``lang`` autotune does not write (an :class:`OptionError`), before a command does any work."""
    if lang not in LANGS:
        raise OptionError(f"lang {lang!r} is not a report language; allowed: {', '.join(LANGS)}; nothing was written")


def _joined(*tables: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The topic tables as one; a key in two of them would hide one of its sentences, so it is refused."""
    out: dict[str, tuple[str, str]] = {}
    for table in tables:
        twice = sorted(out.keys() & table.keys())
        if twice:
            raise ValueError(f"sentence keys in two topic tables: {', '.join(twice)}")
        out.update(table)
    return out


#: Every sentence by key, as an (English, Chinese) pair.
TEXT: dict[str, tuple[str, str]] = _joined(REPORT, ABLATION, CONFIRMATION, DOCUMENT)

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
