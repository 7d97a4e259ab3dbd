"""MLP and CNN builders from plain parameters, and users' own builders. Nothing here knows about Optuna.

A custom builder is a function ``build(params, input_shape, n_outputs) -> nn.Module`` named in
a spec as ``path/to/file.py:build`` or ``package.module:build``; ``params`` holds the model's
own parameters (the spec's searched and fixed values, without the trainer's ``lr``,
``batch_size``, ``optimizer``, …).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from autotune.errors import ModelError
from autotune.spec.study import MODELS, TRAINING_PARAMS
from autotune.words.tables import short

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class MLP(nn.Module):
    """``Flatten → [Linear → (BatchNorm) → act → (Dropout)] × depth → Linear``."""

    def __init__(
        self,
        n_inputs: int,
        hidden: Sequence[int],
        n_outputs: int,
        *,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = n_inputs
        for units in hidden:
            layers.append(nn.Linear(width, units))
            if batch_norm:
                layers.append(nn.BatchNorm1d(units))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = units
        layers.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CNN(nn.Module):
    """The seed report's family: ``[conv → (BN) → act → maxpool] × depth → fc → act → fc``."""

    def __init__(
        self,
        in_shape: Sequence[int],
        channels: Sequence[int],
        n_outputs: int,
        *,
        kernel_size: int = 5,
        fc_units: int = 128,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        in_channels, height, width = in_shape
        blocks: list[nn.Module] = []
        for out_channels in channels:
            blocks.append(nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2))
            if batch_norm:
                blocks.append(nn.BatchNorm2d(out_channels))
            blocks += [_ACTIVATIONS[activation](), nn.MaxPool2d(2)]
            in_channels, height, width = out_channels, height // 2, width // 2
        self.features = nn.Sequential(*blocks)
        head: list[nn.Module] = [nn.Flatten()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head += [nn.Linear(in_channels * height * width, fc_units), _ACTIVATIONS[activation]()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(fc_units, n_outputs))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build_model(family: str, *, input_shape: Sequence[int], n_outputs: int, config: dict[str, Any]) -> nn.Module:
    """Build and initialise a model from a resolved configuration (see :func:`autotune.search.space.suggest`).

    ``family`` is ``mlp``, ``cnn`` or a custom builder reference (see the module docstring).
    """
    if family not in MODELS:
        model = build_custom(family, model_params(config), input_shape=input_shape, n_outputs=n_outputs)
        init_weights(model, config.get("init", "default"))
        return model
    common = dict(activation=config["activation"], dropout=config["dropout"], batch_norm=config["batch_norm"])
    if family == "mlp":
        model: nn.Module = MLP(math.prod(input_shape), config["units"], n_outputs, **common)
    elif family == "cnn":
        model = CNN(
            input_shape,
            config["channels"],
            n_outputs,
            kernel_size=config["kernel_size"],
            fc_units=config["fc_units"],
            **common,
        )
    else:
        raise ValueError(f"unknown model family {family!r}")
    init_weights(model, config["init"])
    return model


def init_weights(model: nn.Module, scheme: str) -> None:
    """Re-initialise every Linear/Conv weight with ``scheme`` (biases to zero); ``default`` keeps PyTorch's."""
    if scheme == "default":
        return
    for module in model.modules():
        if not isinstance(module, (nn.Linear, nn.Conv2d)):
            continue
        w = module.weight
        with torch.no_grad():
            if scheme == "zeros":
                nn.init.zeros_(w)
            elif scheme == "normal":
                nn.init.normal_(w, mean=0.0, std=0.05)
            elif scheme == "uniform":
                nn.init.uniform_(w, -0.05, 0.05)
            elif scheme == "xavier_uniform":
                nn.init.xavier_uniform_(w)
            elif scheme == "xavier_normal":
                nn.init.xavier_normal_(w)
            elif scheme == "kaiming_uniform":
                nn.init.kaiming_uniform_(w, nonlinearity="relu")
            elif scheme == "kaiming_normal":
                nn.init.kaiming_normal_(w, nonlinearity="relu")
            elif scheme == "orthogonal":
                nn.init.orthogonal_(w)
            elif scheme == "sparse":  # 90% zeros, the rest N(0, 0.01), column by column
                nn.init.sparse_(w.view(w.shape[0], -1), sparsity=0.9, std=0.01)
            else:
                raise ValueError(f"unknown init scheme {scheme!r}")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def model_params(config: dict[str, Any]) -> dict[str, Any]:
    """The part of a configuration a custom builder receives: everything but the trainer's parameters."""
    return {k: v for k, v in config.items() if k not in TRAINING_PARAMS}


def build_custom(ref: str, params: dict[str, Any], *, input_shape: Sequence[int], n_outputs: int) -> nn.Module:
    """Call a user's builder; any failure becomes one :class:`ModelError` line naming the function."""
    builder = load_builder(ref)
    try:
        model = builder(dict(params), tuple(input_shape), n_outputs)
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise ModelError(
            f"model function '{ref}' raised {type(exc).__name__}: {exc} (at {frame.filename}:"
            f"{frame.lineno}; params {params}, input_shape {tuple(input_shape)}, "
            f"n_outputs {n_outputs})"
        ) from None
    if not isinstance(model, nn.Module):
        raise ModelError(f"model function '{ref}' returned {type(model).__name__}, not a torch.nn.Module")
    return model


@functools.cache
def load_builder(ref: str) -> Callable[..., Any]:
    """Import ``file.py:function`` or ``package.module:function`` (the current folder is importable)."""
    target, _, name = ref.rpartition(":")
    try:
        if target.endswith(".py"):
            path = Path(target)
            if not path.is_file():
                raise ModelError(f"model file '{path}' does not exist")
            module_name = f"autotune_user_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.append(os.getcwd())  # like `python -m`: the user's package in the current folder
            module = importlib.import_module(target)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"cannot import '{target}' for model '{ref}': {type(exc).__name__}: {exc}") from None
    builder = getattr(module, name, None)
    if builder is None or not callable(builder):
        raise ModelError(f"'{target}' has no function '{name}' (model '{ref}')")
    try:
        inspect.signature(builder).bind(object(), (), 0)
    except TypeError:
        raise ModelError(
            f"model function '{ref}' must take (params, input_shape, n_outputs); "
            f"its signature is {name}{inspect.signature(builder)}"
        ) from None
    except ValueError:  # no signature to inspect (a builtin): let the call decide
        pass
    return builder


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def describe_structure(family: str, *, input_shape: Sequence[int], n_outputs: int, config: dict[str, Any]) -> str:
    """The structure as the seed reports write it: ``[784,256,128,10]``; CNNs as ``conv[32,64]-fc[128]-10``."""
    if family not in MODELS:
        name = family.rpartition(":")[2]
        args = ", ".join(f"{k}={short(v)}" for k, v in model_params(config).items())
        return f"{name}({args})"
    if family == "mlp":
        return "[" + ",".join(str(v) for v in (math.prod(input_shape), *config["units"], n_outputs)) + "]"
    convs = ",".join(str(c) for c in config["channels"])
    return f"conv{config['kernel_size']}x{config['kernel_size']}[{convs}]-fc[{config['fc_units']}]-{n_outputs}"
