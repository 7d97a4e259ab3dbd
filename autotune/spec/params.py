"""The parameter catalogue: every parameter a spec may search or fix, and how one value is checked.

This is what autotune knows about learning rates, widths, initialisers and the rest (kind,
default, bounds, which model families take it), with :class:`Checker`, which words every spec
error so that it names the file, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from autotune.errors import SpecError

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "selu", "silu", "tanh", "sigmoid")
INITS = (
    "default",
    "zeros",
    "normal",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
)
OPTIMIZERS = ("sgd", "sgd_momentum", "adam", "adamw")
LR_SCHEDULES = ("none", "step", "cosine")
MODELS = ("mlp", "cnn")
#: ``model:`` is one of MODELS or a user's builder, ``path/to/file.py:function`` or ``package.module:function``;
#: the builder's models form the "custom" family.
FAMILIES = (*MODELS, "custom")
#: Parameters the trainer itself uses: every family has them, a custom builder never sees them.
TRAINING_PARAMS = ("lr", "batch_size", "init", "optimizer", "weight_decay", "lr_schedule", "augment")
#: What a study can optimise (``metric`` and the first objective: validation metrics only) and
#: constrain or trade off (``objectives`` after the first, ``constraints``: all), with the natural
#: direction of each.
METRICS = {"val_accuracy": "maximize", "val_loss": "minimize"}
COST_METRICS = {
    "train_seconds": "minimize",  # wall time of the trial's training (evaluation included)
    "params": "minimize",  # trainable parameters of the model
    "latency_ms": "minimize",  # inference time per sample: a fixed batch on the trial's device, warm-up excluded
}
ALL_METRICS = {**METRICS, **COST_METRICS}
SAMPLERS = ("tpe", "random", "nsga2")
#: A Python identifier: a custom model's parameter name, a builder function's name.
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PRUNERS = ("median", "successive_halving", "hyperband", "none")


@dataclass(frozen=True)
class ParamInfo:
    """What autotune knows about one tunable parameter."""

    name: str
    kind: str  # "float" | "int" | "bool" | "choice" | "any" (a custom model's parameter: any scalar or list)
    default: Any
    help: str
    families: tuple[str, ...] = MODELS
    allowed: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    per_layer: bool = False
    image_only: bool = False

    def describe_bounds(self) -> str:
        if self.kind == "any":
            return "a number, a string, true/false, or a list of those"
        if self.kind in ("choice", "bool"):
            return "one of " + ", ".join(str(a) for a in self.allowed)
        low = "" if self.minimum is None else f"{'>' if self.exclusive_minimum else '>='} {format_number(self.minimum)}"
        high = (
            "" if self.maximum is None else f"{'<' if self.exclusive_maximum else '<='} {format_number(self.maximum)}"
        )
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} " + " and ".join(p for p in (low, high) if p) if low or high else kind


#: Every parameter a spec may search or fix, with its default (the "spec defaults" baseline:
#: a plain tutorial set-up, SGD at 0.01 with two hidden layers of 128 units).
PARAMETERS: Mapping[str, ParamInfo] = MappingProxyType(
    {
        p.name: p
        for p in (
            ParamInfo(
                "lr",
                "float",
                0.01,
                "learning rate",
                minimum=0.0,
                exclusive_minimum=True,
                maximum=10.0,
                families=FAMILIES,
            ),
            ParamInfo("batch_size", "int", 64, "mini-batch size", minimum=1, maximum=65536, families=FAMILIES),
            ParamInfo("n_layers", "int", 2, "hidden layers (MLP) or conv blocks (CNN)", minimum=1, maximum=16),
            ParamInfo(
                "units",
                "int",
                128,
                "units of each hidden layer (per layer, follows n_layers)",
                families=("mlp",),
                minimum=1,
                maximum=8192,
                per_layer=True,
            ),
            ParamInfo(
                "channels",
                "int",
                32,
                "output channels of each conv block (per block, follows n_layers)",
                families=("cnn",),
                minimum=1,
                maximum=1024,
                per_layer=True,
            ),
            ParamInfo(
                "kernel_size", "int", 5, "convolution kernel size (odd)", families=("cnn",), minimum=1, maximum=15
            ),
            ParamInfo(
                "fc_units",
                "int",
                128,
                "units of the CNN's fully-connected layer",
                families=("cnn",),
                minimum=1,
                maximum=8192,
            ),
            ParamInfo("activation", "choice", "relu", "activation function", allowed=ACTIVATIONS),
            ParamInfo("init", "choice", "default", "weight initialisation", allowed=INITS, families=FAMILIES),
            ParamInfo(
                "optimizer",
                "choice",
                "sgd",
                "optimiser (sgd_momentum uses momentum 0.9)",
                allowed=OPTIMIZERS,
                families=FAMILIES,
            ),
            ParamInfo("weight_decay", "float", 0.0, "L2 weight decay", minimum=0.0, maximum=1.0, families=FAMILIES),
            ParamInfo("dropout", "float", 0.0, "dropout probability", minimum=0.0, maximum=1.0, exclusive_maximum=True),
            ParamInfo(
                "batch_norm", "bool", False, "batch normalisation after each hidden layer", allowed=(True, False)
            ),
            ParamInfo(
                "lr_schedule",
                "choice",
                "none",
                "learning-rate schedule over the epochs",
                allowed=LR_SCHEDULES,
                families=FAMILIES,
            ),
            ParamInfo(
                "augment",
                "bool",
                False,
                "random shifts (±2 px) and rotations (±10°) of training images",
                allowed=(True, False),
                image_only=True,
                families=FAMILIES,
            ),
        )
    }
)


class Checker:
    """Builds error messages that point at the file and key."""

    def __init__(self, source: str, prefix: str = "") -> None:
        self.source = source
        self.prefix = prefix

    def error(self, key: str, problem: str) -> SpecError:
        key = key if key.isprintable() else repr(key)  # a key with a newline must not break the one-line error
        where = f"{self.source}: {self.prefix}{key}" if key else self.source
        return SpecError(f"{where}: {problem}")

    def string(self, data: dict, key: str, default: str) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {show_value(value)}")
        return value

    def choice(self, data: dict, key: str, allowed: tuple[str, ...], default: str | None) -> str:
        value = data.get(key, default)
        if value not in allowed or not isinstance(value, str):
            raise self.error(key, f"must be one of {', '.join(allowed)}; got {show_value(value)}")
        return value

    def integer(
        self, data: dict, key: str, default: int | None, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {show_value(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be <= {maximum}, got {value}")
        return value

    def boolean(self, data: dict, key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {show_value(value)}")
        return value

    def mapping(self, value: Any, key: str, allowed: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping, got {show_value(value)}")
        unknown = sorted(set(map(str, value)) - allowed)
        if unknown:
            raise self.error(f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
        return value


def param_info(ctx: Checker, key: str, name: str, *, model: str, is_image: bool) -> ParamInfo:
    if model == "custom" and not (name in PARAMETERS and "custom" in PARAMETERS[name].families):
        if not IDENT_RE.match(name):
            raise ctx.error(f"{key}.{name}", "a custom model's parameter name must be a Python identifier")
        return ParamInfo(name, "any", None, "a parameter of the custom model", families=("custom",))
    info = PARAMETERS.get(name)
    applicable = [p for p, i in PARAMETERS.items() if model in i.families and (is_image or not i.image_only)]
    if info is None:
        raise ctx.error(f"{key}.{name}", f"unknown parameter; allowed for model '{model}': {', '.join(applicable)}")
    if model not in info.families:
        raise ctx.error(f"{key}.{name}", f"does not apply to model '{model}'; allowed: {', '.join(applicable)}")
    if info.image_only and not is_image:
        raise ctx.error(f"{key}.{name}", "applies only to image datasets")
    return info


def check_value(ctx: Checker, key: str, info: ParamInfo, value: Any) -> Any:
    """Check one concrete value of a parameter and return it in canonical form."""
    bad = ctx.error(key, f"must be {info.describe_bounds()}, got {show_value(value)}")
    if info.kind == "any":
        if isinstance(value, list) and value and all(plain_scalar(v) for v in value):
            return tuple(value)
        if not plain_scalar(value):
            raise bad
        return value
    if info.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if info.kind == "choice":
        if not isinstance(value, str) or value not in info.allowed:
            raise bad
        return value
    if isinstance(value, str) and info.kind == "float":
        value = float_from_str(value, bad)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if info.kind == "int" and not isinstance(value, int):
        raise ctx.error(key, f"must be an integer, got {show_value(value)}")
    if not math.isfinite(value):
        raise bad
    if info.minimum is not None and (value < info.minimum or (info.exclusive_minimum and value == info.minimum)):
        raise bad
    if info.maximum is not None and (value > info.maximum or (info.exclusive_maximum and value == info.maximum)):
        raise bad
    if info.name == "kernel_size" and value % 2 == 0:
        raise ctx.error(key, f"must be odd, got {value}")
    return float(value) if info.kind == "float" else value


def cnn_depth_problem(image: tuple[int, int], depth: int) -> str | None:
    """Why ``depth`` conv blocks (each halving the image) do not fit a height x width image, or None."""
    most = int(math.log2(min(image)))
    if depth <= most:
        return None
    return f"a {image[0]}x{image[1]} image allows at most {most} conv blocks (each halves it), got {depth}"


def plain_scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, str)) or (isinstance(value, float) and math.isfinite(value))


def float_from_str(value: str, error: SpecError) -> float:
    # YAML 1.1 reads "1e-4" (no dot) as a string; accept it as the number users meant.
    try:
        return float(value)
    except ValueError:
        raise error from None


def type_name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def show_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
