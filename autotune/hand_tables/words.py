"""The words of hand tables: column headers in English, Chinese and mixed forms, and cells as people write them.

Headers are matched after :func:`plain` (lower case, no spaces, underscores, hyphens, bold or unit marks):
first as a whole (``训练集loss``), else by their Chinese and Latin parts, which must agree
(``学习率learning rate``: 学习率 and learningrate both mean ``lr``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from autotune.data.datasets import DATASETS
from autotune.errors import TableError
from autotune.spec.params import ACTIVATIONS, INITS, OPTIMIZERS
from autotune.spec.study import StudySpec

#: Recorded results: stored with the trial, never trained on. Accuracies are fractions once read.
FIGURES = ("val_accuracy", "val_loss", "train_accuracy", "train_loss", "epochs", "seconds")
ACCURACIES = ("val_accuracy", "train_accuracy")
FIELDS_NOT_PARAMS = (*FIGURES, "row", "remark", "structure", "ignore")

#: header (after plain()) -> field
HEADERS: dict[str, str] = {}
for _field, _names in {
    "row": ["编号", "序号", "no", "no.", "#", "row", "id", "number", "实验编号", "组别"],
    "lr": ["学习率", "learningrate", "lr", "学习速率", "初始学习率"],
    "lr_schedule": ["lrschedule", "lrscheduleaswritten", "schedule", "学习率调度", "学习率策略", "学习率衰减"],
    "batch_size": ["batchsize", "批处理大小", "批大小", "批量大小", "批次大小", "batch"],
    "structure": ["网络结构", "结构", "structure", "layers", "architecture", "网络架构", "层结构"],
    "init": ["初始化方法", "初始化", "init", "initialisation", "initialization", "权重初始化", "initializer"],
    "hidden_units": [
        "隐藏层神经元",
        "隐藏神经元数量",
        "隐层神经元数量",
        "隐藏层神经元数量",
        "隐层神经元",
        "隐藏神经元",
        "hiddenunits",
        "hidden",
        "hiddenneurons",
        "neurons",
        "神经元数量",
    ],
    "epochs": ["训练轮数", "轮数", "epoch", "epochs", "训练次数"],
    "train_loss": ["训练集loss", "训练loss", "trainloss", "训练损失", "训练集损失", "loss"],
    "train_accuracy": ["训练集准确率", "训练准确率", "trainaccuracy", "trainacc"],
    "val_loss": ["验证集loss", "验证loss", "valloss", "validationloss", "验证集损失", "验证损失"],
    "val_accuracy": [
        "验证集准确率",
        "验证准确率",
        "valaccuracy",
        "validationaccuracy",
        "valacc",
        "准确率",
        "accuracy",
        "acc",
        "正确率",
        "精度",
    ],
    "remark": ["备注", "remark", "remarks", "note", "notes", "说明", "remarkzh", "comment", "comments"],
    "seconds": ["耗时", "时间", "seconds", "time", "训练时间", "用时", "times"],
    "activation": ["激活函数", "activation", "激活"],
    "optimizer": ["优化器", "optimizer", "optimiser", "优化方法"],
    "weight_decay": ["权重衰减", "weightdecay", "l2", "l2正则", "正则化系数", "l2正则化"],
    "dropout": ["dropout", "dropout概率", "丢弃率"],
    "batch_norm": ["batchnorm", "批归一化", "bn", "批标准化"],
    "n_layers": ["层数", "nlayers", "depth", "隐藏层数", "网络层数"],
    "kernel_size": ["卷积核大小", "kernelsize", "kernel"],
    "channels": ["通道数", "channels"],
    "fc_units": ["全连接层神经元", "fcunits", "全连接神经元"],
    "augment": ["数据增强", "augment", "augmentation"],
}.items():
    HEADERS.update({name: _field for name in _names})

#: init cell (after _key()) -> autotune's init
INIT_WORDS = {
    **{k: "normal" for k in ("正态", "正态分布", "高斯", "高斯分布", "normal", "gaussian", "randn")},
    **{k: "zeros" for k in ("零", "全零", "零初始化", "zeros", "zero", "0")},
    **{k: "uniform" for k in ("均匀", "均匀分布", "uniform")},
    **{
        k: "kaiming_normal"
        for k in (
            "he",
            "kaiming",
            "kaiminghe",
            "hekaiming",
            "kaimingnormal",
            "henormal",
            "he正态",
            "he高斯",
            "kaiming正态",
            "kaiming高斯",
            "何恺明",
            "何凯明",
        )
    },
    **{k: "kaiming_uniform" for k in ("kaiminguniform", "heuniform", "he均匀", "kaiming均匀")},
    **{k: "sparse" for k in ("稀疏", "sparse", "稀疏初始化")},
    **{k: "xavier_uniform" for k in ("xavier均匀", "xavieruniform", "glorotuniform", "glorot均匀", "xavier")},
    **{
        k: "xavier_normal"
        for k in (
            "xavier高斯",
            "xavier正态",
            "xaviernormal",
            "glorotnormal",
            "xaviergaussian",
            "glorot正态",
            "glorot高斯",
        )
    },
    **{k: "orthogonal" for k in ("正交", "orthogonal", "正交初始化")},
    **{k: "default" for k in ("默认", "default", "pytorch默认", "pytorch")},
}
OPTIMIZER_WORDS = {
    "sgd": "sgd",
    "随机梯度下降": "sgd",
    "adam": "adam",
    "adamw": "adamw",
    "momentum": "sgd_momentum",
    "sgdm": "sgd_momentum",
    "sgdmomentum": "sgd_momentum",
    "sgd+momentum": "sgd_momentum",
    "动量": "sgd_momentum",
    "sgd动量": "sgd_momentum",
}
ACTIVATION_WORDS = {"leakyrelu": "leaky_relu", "swish": "silu", **{a.replace("_", ""): a for a in ACTIVATIONS}}
SCHEDULE_WORDS = {
    "none": "none",
    "无": "none",
    "不使用": "none",
    "constant": "none",
    "固定": "none",
    "step": "step",
    "steplr": "step",
    "阶梯": "step",
    "分段": "step",
    "cosine": "cosine",
    "余弦": "cosine",
    "cosineannealing": "cosine",
    "余弦退火": "cosine",
}
TRUE_WORDS = {"true", "yes", "y", "on", "1", "是", "有", "开", "使用", "✓", "√"}
FALSE_WORDS = {"false", "no", "n", "off", "0", "否", "无", "关", "不使用", "✗", "×"}
BLANKS = {"", "-", "—", "–", "--", "/", "n/a", "na", "none", "null", "未记录"}
_PERCENT_MARKS = re.compile(r"[（(]\s*[%％]\s*[)）]|[%％]|pct$|percent$|百分比")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]+")


def plain(text: str) -> str:
    """A header or word compared: lower case, without bold, spaces, underscores, hyphens or unit marks."""
    text = strip_marks(text).lower()
    text = _PERCENT_MARKS.sub("", text)
    return re.sub(r"[\s_\-:：]+", "", text)


def strip_marks(text: str) -> str:
    """A cell without Markdown emphasis or code marks and outer spaces (``**15**`` -> ``15``)."""
    text = text.strip()
    text = re.sub(r"^(\*\*|__|\*|_|`)(.*)\1$", r"\2", text).strip()
    return text


def is_percent(header: str) -> bool:
    return bool(_PERCENT_MARKS.search(strip_marks(header).lower().replace(" ", "")))


def is_blank(text: str) -> bool:
    return strip_marks(text).lower() in BLANKS


def field_of(header: str) -> tuple[str | None, bool]:
    """The field a header names (None: unknown) and whether it says the column is in percent."""
    key = plain(header)
    percent = is_percent(header)
    if key in HEADERS:
        return HEADERS[key], percent
    parts = [p for p in (*_CJK.findall(key), _CJK.sub("", key)) if p]
    fields = {HEADERS[p] for p in parts if p in HEADERS}
    return (fields.pop(), percent) if len(fields) == 1 else (None, percent)


def known() -> str:
    firsts: dict[str, list[str]] = {}
    for name, field_ in HEADERS.items():
        firsts.setdefault(field_, []).append(name)
    return ", ".join(f"{names[0]}/{field_}" for field_, names in firsts.items() if field_ != "row") + ", 编号/row"


def map_targets(spec: StudySpec) -> list[str]:
    return [*spec.parameters, *FIELDS_NOT_PARAMS]


def is_layer_key(name: str, spec: StudySpec) -> bool:
    return spec.per_layer is not None and re.fullmatch(rf"{spec.per_layer}_l\d+", name) is not None


# --------------------------------------------------------------------------------------
# Cells


def number(text: str) -> float | None:
    text = strip_marks(text).replace("％", "%").rstrip("%").strip().replace("，", ",")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def figure(field_: str, text: str, where: str, *, percent: bool) -> float | int:
    if field_ == "epochs":
        value = _integer(text)
        if value is None or value < 1:
            raise TableError(f"{where}: cannot read {text!r} as a number of epochs (an integer >= 1)")
        return value
    value = number(text)
    if field_ in ACCURACIES:
        if value is not None and (percent or strip_marks(text).endswith(("%", "％"))):
            value /= 100
        if value is None or not 0 <= value <= 1:
            raise TableError(
                f"{where}: cannot read {text!r} as an accuracy (a percentage such as 97.45% or 97.45, "
                "or a fraction from 0 to 1)"
            )
        return value
    if value is None or value < 0 or "%" in text:
        what = "seconds" if field_ == "seconds" else "a loss"
        raise TableError(f"{where}: cannot read {text!r} as {what} (a number >= 0)")
    return value


def learning_rate(text: str, where: str) -> tuple[float, str | None]:
    """``0.01`` -> (0.01, None); ``0.01；100；0.01`` (start；step；factor) -> (0.01, the text as written)."""
    parts = [p.strip() for p in re.split(r"[;；]", text)]
    values = [number(p) for p in parts]
    if len(parts) in (1, 3) and all(v is not None for v in values) and values[0] > 0 and "%" not in text:
        return float(values[0]), (text if len(parts) == 3 else None)
    raise TableError(
        f"{where}: cannot read {text!r} as a learning rate (a number > 0, or a step schedule "
        "written start；step；factor such as 0.01；100；0.01)"
    )


def schedule(text: str, where: str) -> tuple[str, str | None]:
    """A schedule cell: a name (none, step, cosine, 余弦 …) or a step schedule written start；step；factor."""
    key = plain(text)
    if key in SCHEDULE_WORDS:
        return SCHEDULE_WORDS[key], None
    parts = re.split(r"[;；]", text)
    if len(parts) == 3 and all(number(p) is not None for p in parts):
        return "step", text
    raise TableError(
        f"{where}: cannot read {text!r} as a learning-rate schedule (none, step, cosine, or a step "
        "schedule written start；step；factor such as 0.01；100；0.01)"
    )


def structure(text: str, where: str, spec: StudySpec) -> list[int]:
    """An MLP written as its layer sizes, ``[784,256,128,10]``: the hidden widths ([256, 128]). A list whose ends
    are not the dataset's input and output sizes is read as the hidden widths alone."""
    widths = _int_list(text)
    if widths is None or not widths or min(widths) < 1:
        raise TableError(f"{where}: cannot read {text!r} as a structure (layer sizes such as [784,256,128,10])")
    sizes = _io_sizes(spec)
    if sizes is None:
        return widths
    inputs, outputs = sizes
    ends = (widths[0] == inputs, widths[-1] == outputs)
    if all(ends) and len(widths) >= 3:
        return widths[1:-1]
    if any(ends) and len(widths) >= 2:
        raise TableError(
            f"{where}: the structure {text!r} reads as input…output sizes only at one end; dataset "
            f"'{spec.dataset_name}' has {inputs} inputs and {outputs} outputs ([{inputs},…,{outputs}]), "
            "or give the hidden widths alone ([256,128])"
        )
    return widths


def param_value(name: str, text: str, where: str, spec: StudySpec) -> Any:
    """A parameter's cell as a plain value; its bounds are checked later, with the configuration."""
    key = re.sub(r"[()（）\[\]]", "", plain(text))  # "kaiming (He)" -> "kaiminghe"
    info = spec.parameters[name.rsplit("_l", 1)[0] if is_layer_key(name, spec) else name]
    if name == "init":
        value = INIT_WORDS.get(key) or (key if key in INITS else None)
        return _or_fail(
            value,
            where,
            text,
            "an initialisation",
            INITS + ("正态", "零", "均匀", "He", "稀疏", "Xavier均匀", "Xavier高斯"),
        )
    if name == "optimizer":
        value = OPTIMIZER_WORDS.get(key) or (key if key in OPTIMIZERS else None)
        return _or_fail(value, where, text, "an optimiser", OPTIMIZERS)
    if name == "activation":
        return _or_fail(ACTIVATION_WORDS.get(key), where, text, "an activation", ACTIVATIONS)
    if info.kind == "bool":
        if key in TRUE_WORDS or key in FALSE_WORDS:
            return key in TRUE_WORDS
        return _or_fail(None, where, text, "yes or no", ("true", "false", "是", "否"))
    if info.per_layer and not is_layer_key(name, spec):
        widths = _int_list(text)
        if widths is None or not widths:
            raise TableError(f"{where}: cannot read {text!r} as {name} (an integer, or one per layer: [256,128])")
        return widths[0] if len(widths) == 1 else widths
    if info.kind == "int":
        value = _integer(text)
        if value is None:
            raise TableError(f"{where}: cannot read {text!r} as {name} (an integer)")
        return value
    if info.kind == "float":
        value = number(text)
        if value is None:
            raise TableError(f"{where}: cannot read {text!r} as {name} (a number)")
        return value / 100 if "%" in text or "％" in text else value
    if info.kind == "choice":
        value = text.strip().lower()
        return _or_fail(value if value in info.allowed else None, where, text, name, info.allowed)
    whole = _integer(text)  # a custom model's own parameter: a number where it reads as one, else the text
    return whole if whole is not None else number(text) if number(text) is not None else text


def _or_fail(value: Any, where: str, text: str, what: str, allowed: tuple[str, ...]) -> Any:
    if value is None:
        raise TableError(f"{where}: cannot read {text!r} as {what}; allowed: {', '.join(allowed)}")
    return value


def _integer(text: str) -> int | None:
    value = number(text)
    if value is None or value != int(value) or "%" in text:
        return None
    return int(value)


def _int_list(text: str) -> list[int] | None:
    inner = re.sub(r"^[\[(（【{]|[\])）】}]$", "", strip_marks(text).strip()).strip()
    parts = [p for p in re.split(r"[,，、/\s×x*\-→>]+", inner) if p]
    values = [_integer(p) for p in parts]
    return None if not parts or any(v is None for v in values) else values  # type: ignore[return-value]


def _io_sizes(spec: StudySpec) -> tuple[int, int] | None:
    """(inputs, outputs) of a built-in dataset; None for a user's data (known only once loaded)."""

    info = DATASETS.get(spec.dataset_name) if isinstance(spec.dataset, str) else None
    return None if info is None else (math.prod(info.shape), info.n_outputs)
