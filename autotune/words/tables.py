"""Tables in the seed reports' column format, in English or Chinese, as Markdown and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from autotune.words import i18n


def short(value: Any) -> str:
    """A value for a table cell or a one-line summary: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


HEADERS = {
    "parameter": ("Parameter", "参数"),
    "configuration": ("Configuration", "实验配置"),
    "train_loss": ("Train loss", "训练集Loss"),
    "train_accuracy": ("Train accuracy", "训练集准确率"),
    "val_loss": ("Validation loss", "验证集Loss"),
    "val_accuracy": ("Validation accuracy", "验证集准确率"),
    "change": ("Change in performance", "性能变化"),
    "share": ("Share of gain", "增益占比"),
    "reference": ("reference", "参照"),
    "best": ("best", "最优"),
    "ablation_key": (
        "Change: mean minus the best configuration's, over the same seeds. Share of gain: of the "
        "baseline-to-best difference, the part lost without the component (- rows) or reached so far "
        "on the greedy path (+ rows). Paired p: a paired t-test across seeds, run from 3 seeds on.",
        "性能变化：与最优配置（相同随机种子）均值之差。增益占比：基准到最优之差中，去掉该组件后损失的部分（- 行），"
        "或贪心路径上已获得的部分（+ 行）。配对检验p值：跨随机种子的配对t检验，至少3个种子时才计算。",
    ),
    "seconds": ("Seconds", "耗时(秒)"),
    "p_value": ("Paired p", "配对检验p值"),
    "baseline": ("baseline", "基准"),
    "value": ("Value", "取值"),
}


def header(key: str, lang: str) -> str:
    return i18n.pick(HEADERS, key, lang)


def mean_std(mean: float | None, std: float | None, *, percent: bool = False) -> str:
    """``mean ± std``; without a std (one seed: no spread was measured) the mean alone, never a made-up ± 0."""
    if mean is None:
        return "-"
    if percent:
        return f"{mean * 100:.2f}%" + ("" if std is None else f" ± {std * 100:.2f}")
    return f"{mean:.4f}" + ("" if std is None else f" ± {std:.4f}")


def markdown(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()
