"""MLP and CNN builders from plain parameters. Nothing here knows about Optuna."""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn

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

    def __init__(self, n_inputs: int, hidden: Sequence[int], n_outputs: int, *, activation: str = "relu",
                 dropout: float = 0.0, batch_norm: bool = False) -> None:
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

    def __init__(self, in_shape: Sequence[int], channels: Sequence[int], n_outputs: int, *, kernel_size: int = 5,
                 fc_units: int = 128, activation: str = "relu", dropout: float = 0.0,
                 batch_norm: bool = False) -> None:
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
    """Build and initialise a model from a resolved configuration (see :func:`autotune.space.suggest`)."""
    common = dict(activation=config["activation"], dropout=config["dropout"], batch_norm=config["batch_norm"])
    if family == "mlp":
        model: nn.Module = MLP(math.prod(input_shape), config["units"], n_outputs, **common)
    elif family == "cnn":
        model = CNN(input_shape, config["channels"], n_outputs, kernel_size=config["kernel_size"],
                    fc_units=config["fc_units"], **common)
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


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def describe_structure(family: str, *, input_shape: Sequence[int], n_outputs: int, config: dict[str, Any]) -> str:
    """The structure as the seed reports write it: ``[784,256,128,10]``; CNNs as ``conv[32,64]-fc[128]-10``."""
    if family == "mlp":
        return "[" + ",".join(str(v) for v in (math.prod(input_shape), *config["units"], n_outputs)) + "]"
    convs = ",".join(str(c) for c in config["channels"])
    return f"conv{config['kernel_size']}x{config['kernel_size']}[{convs}]-fc[{config['fc_units']}]-{n_outputs}"
