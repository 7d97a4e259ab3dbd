"""Models are built from plain parameters, have the right shapes, and honour every init scheme."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autotune.spec.study import ACTIVATIONS, INITS
from autotune.training.models import build_model, count_parameters, describe_structure


def _config(**kw):
    base = dict(
        units=[256, 128],
        channels=[32, 64],
        kernel_size=5,
        fc_units=1024,
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        init="default",
    )
    base.update(kw)
    return base


def test_mlp_structure_matches_the_seed_notation():
    config = _config()
    model = build_model("mlp", input_shape=(1, 28, 28), n_outputs=10, config=config)
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert describe_structure("mlp", input_shape=(1, 28, 28), n_outputs=10, config=config) == "[784,256,128,10]"
    assert count_parameters(model) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10


def test_seed_report_cnn():
    # seed report 004: conv 32 5x5, pool, conv 64, pool, fc 1024, fc 10
    config = _config()
    model = build_model("cnn", input_shape=(1, 28, 28), n_outputs=10, config=config)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert (
        describe_structure("cnn", input_shape=(1, 28, 28), n_outputs=10, config=config) == "conv5x5[32,64]-fc[1024]-10"
    )
    assert model.head[1].in_features == 64 * 7 * 7


#: Each activation name, the module the models use for it (with its settings), and that module's function.
ACTIVATION_MODULES = {
    "relu": (nn.ReLU(), F.relu),
    "leaky_relu": (nn.LeakyReLU(0.01), lambda x: F.leaky_relu(x, 0.01)),
    "elu": (nn.ELU(alpha=1.0), F.elu),
    "gelu": (nn.GELU(approximate="none"), F.gelu),
    "selu": (nn.SELU(), F.selu),
    "silu": (nn.SiLU(), F.silu),
    "tanh": (nn.Tanh(), torch.tanh),
    "sigmoid": (nn.Sigmoid(), torch.sigmoid),
}


def _leaf_types(model: nn.Module) -> list[type]:
    return [type(m) for m in model.modules() if not list(m.children())]


def test_every_activation_name_has_its_module_here():
    assert set(ACTIVATION_MODULES) == set(ACTIVATIONS)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_every_activation_builds(family, activation):
    """The activation named is the one in every place the family's structure has one, and nowhere else."""
    model = build_model(
        family,
        input_shape=(1, 8, 8),
        n_outputs=10,
        config=_config(activation=activation, channels=[4], fc_units=8, units=[8], batch_norm=True, dropout=0.2),
    )
    model.train()
    assert torch.isfinite(model(torch.randn(4, 1, 8, 8))).all()
    module = ACTIVATION_MODULES[activation][0]
    act = type(module)
    if family == "mlp":  # Flatten → [Linear → BN → act → Dropout] → Linear
        expected = [nn.Flatten, nn.Linear, nn.BatchNorm1d, act, nn.Dropout, nn.Linear]
    else:  # [conv → BN → act → maxpool] → Flatten → Dropout → fc → act → Dropout → fc
        expected = [
            nn.Conv2d,
            nn.BatchNorm2d,
            act,
            nn.MaxPool2d,
            nn.Flatten,
            nn.Dropout,
            nn.Linear,
            act,
            nn.Dropout,
            nn.Linear,
        ]
    assert _leaf_types(model) == expected
    # with the same settings (LeakyReLU's slope, GELU's approximation, ...): their reprs name them
    assert [repr(m) for m in model.modules() if type(m) is act] == [repr(module)] * expected.count(act)


def test_each_activation_computes_its_own_function():
    """An MLP's output is Linear → the named activation's function → Linear, so each name gives other outputs."""
    x = 3 * torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    outputs = {}
    for name, (_, function) in ACTIVATION_MODULES.items():
        torch.manual_seed(0)  # the same weights for every activation
        model = build_model(
            "mlp", input_shape=(1, 8, 8), n_outputs=10, config=_config(activation=name, units=[32])
        ).eval()
        first, last = model.net[1], model.net[3]
        by_hand = F.linear(function(F.linear(x.flatten(1), first.weight, first.bias)), last.weight, last.bias)
        with torch.no_grad():
            outputs[name] = model(x)
        torch.testing.assert_close(outputs[name], by_hand, rtol=1e-5, atol=1e-6, msg=name)
    for a, b in itertools.combinations(outputs, 2):  # far apart, so a swapped activation cannot pass the check above
        assert (outputs[a] - outputs[b]).abs().max() > 1e-2, (a, b)


#: What each init scheme does to a Linear/Conv weight, as torch.nn.init calls (None: PyTorch's default init).
INIT_FUNCTIONS = {
    "default": None,
    "zeros": nn.init.zeros_,
    "normal": lambda w: nn.init.normal_(w, mean=0.0, std=0.05),
    "uniform": lambda w: nn.init.uniform_(w, -0.05, 0.05),
    "xavier_uniform": nn.init.xavier_uniform_,
    "xavier_normal": nn.init.xavier_normal_,
    "kaiming_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "kaiming_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "orthogonal": nn.init.orthogonal_,
    "sparse": lambda w: nn.init.sparse_(w.view(w.shape[0], -1), sparsity=0.9, std=0.01),
}

# The first layer of the MLP below: 64 inputs (fan_in), 256 units (fan_out), 16384 weights. Each scheme's weights
# are ("uniform", bound) or ("normal", std); xavier's std (sqrt(2/320) = 0.079) and kaiming's (sqrt(2/64) = 0.177,
# or 0.088 if fan_out were used) are far apart, as are the default (bound 1/8) and xavier_uniform (bound 0.137).
FAN_IN, FAN_OUT = 64, 256
INIT_DISTRIBUTIONS = {
    "default": ("uniform", 1 / math.sqrt(FAN_IN)),  # kaiming_uniform with a = sqrt(5)
    "normal": ("normal", 0.05),
    "uniform": ("uniform", 0.05),
    "xavier_uniform": ("uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "xavier_normal": ("normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "kaiming_uniform": ("uniform", math.sqrt(2) * math.sqrt(3 / FAN_IN)),  # gain sqrt(2) for relu
    "kaiming_normal": ("normal", math.sqrt(2) / math.sqrt(FAN_IN)),
}


def test_every_init_scheme_has_its_function_here():
    assert set(INIT_FUNCTIONS) == set(INITS)


@pytest.mark.parametrize("init", INITS)
def test_every_init_scheme(init):
    """Each scheme's first-layer weights have its distribution; biases are zero except under ``default``."""
    torch.manual_seed(0)
    model = build_model("mlp", input_shape=(1, 8, 8), n_outputs=10, config=_config(init=init, units=[FAN_OUT]))
    weight = model.net[1].weight.detach()
    assert weight.shape == (FAN_OUT, FAN_IN)
    if init == "zeros":
        assert torch.count_nonzero(weight) == 0
    elif init == "sparse":  # in each column (input), ceil(0.9 * 256) = 231 zeros; the rest N(0, 0.01)
        assert ((weight == 0).sum(dim=0) == math.ceil(0.9 * FAN_OUT)).all()
        assert weight[weight != 0].std().item() == pytest.approx(0.01, rel=0.06)
    elif init == "orthogonal":  # 256 x 64: columns orthonormal
        assert torch.allclose(weight.T @ weight, torch.eye(FAN_IN), atol=1e-5)
    else:
        shape, scale = INIT_DISTRIBUTIONS[init]
        top, std = weight.abs().max().item(), weight.std().item()
        assert abs(weight.mean().item()) < 0.05 * std
        within_one_std = (weight.abs() < std).float().mean().item()
        if shape == "uniform":  # U(-b, b): max |w| just under b, std b/sqrt(3), 57.7% within one std
            assert 0.99 * scale <= top <= scale
            assert std == pytest.approx(scale / math.sqrt(3), rel=0.03)
            assert within_one_std == pytest.approx(1 / math.sqrt(3), abs=0.02)
        else:  # N(0, s): std s, 68.3% within one std, tails beyond what a uniform of that std reaches
            assert std == pytest.approx(scale, rel=0.03)
            assert within_one_std == pytest.approx(math.erf(1 / math.sqrt(2)), abs=0.02)
            assert top > 3 * std
    bias = model.net[1].bias.detach()
    if init == "default":  # PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        assert bias.abs().max().item() <= 1 / math.sqrt(FAN_IN) and torch.count_nonzero(bias) == FAN_OUT
    else:
        assert torch.count_nonzero(bias) == 0


def test_orthogonal_init_of_a_wide_layer_has_orthonormal_rows():
    torch.manual_seed(0)
    model = build_model("mlp", input_shape=(1, 8, 8), n_outputs=10, config=_config(init="orthogonal", units=[32]))
    w = model.net[1].weight  # 32 x 64: rows orthonormal
    assert torch.allclose(w @ w.T, torch.eye(32), atol=1e-5)


def _fresh_layers(family: str) -> list[nn.Module]:
    """The Linear/Conv layers of the models in the test below, created in the order the model creates them."""
    if family == "mlp":
        return [nn.Linear(64, 48), nn.Linear(48, 24), nn.Linear(24, 10)]
    return [nn.Conv2d(1, 6, 3, padding=1), nn.Conv2d(6, 12, 3, padding=1), nn.Linear(12 * 2 * 2, 20), nn.Linear(20, 10)]


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_every_init_scheme_is_torchs_own_bit_for_bit(family, init):
    """With the same seed, every layer's weights are exactly what torch.nn.init's function gives a fresh layer of
    that shape, layer by layer in order (``default``: the fresh layer as PyTorch made it); biases zero otherwise."""
    torch.manual_seed(123)
    model = build_model(
        family,
        input_shape=(1, 8, 8),
        n_outputs=10,
        config=_config(
            init=init, units=[48, 24], channels=[6, 12], kernel_size=3, fc_units=20, batch_norm=True, dropout=0.1
        ),
    )
    torch.manual_seed(123)
    expected = _fresh_layers(family)
    with torch.no_grad():
        for layer in expected:
            if INIT_FUNCTIONS[init] is not None:
                INIT_FUNCTIONS[init](layer.weight)
                nn.init.zeros_(layer.bias)
    got = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert [(type(m), m.weight.shape) for m in got] == [(type(m), m.weight.shape) for m in expected]
    for i, (mine, torchs) in enumerate(zip(got, expected)):
        for part in ("weight", "bias"):
            a, b = getattr(mine, part), getattr(torchs, part)
            assert torch.equal(a, b), f"{init}: layer {i}'s {part} differs by up to {(a - b).abs().max().item():.3g}"


def test_regression_output():
    model = build_model("mlp", input_shape=(1,), n_outputs=1, config=_config(units=[50, 50, 50], activation="tanh"))
    assert model(torch.zeros(3, 1)).shape == (3, 1)
