"""Models are built from plain parameters, have the right shapes, and honour every init scheme."""

from __future__ import annotations

import pytest
import torch

from autotune.models import build_model, count_parameters, describe_structure
from autotune.spec import ACTIVATIONS, INITS


def _config(**kw):
    base = dict(units=[256, 128], channels=[32, 64], kernel_size=5, fc_units=1024, activation="relu",
                dropout=0.0, batch_norm=False, init="default")
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
    assert describe_structure("cnn", input_shape=(1, 28, 28), n_outputs=10, config=config) == "conv5x5[32,64]-fc[1024]-10"
    assert model.head[1].in_features == 64 * 7 * 7


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_every_activation_builds(family, activation):
    model = build_model(family, input_shape=(1, 8, 8), n_outputs=10,
                        config=_config(activation=activation, channels=[4], fc_units=8, units=[8],
                                       batch_norm=True, dropout=0.2))
    model.train()
    assert torch.isfinite(model(torch.randn(4, 1, 8, 8))).all()


@pytest.mark.parametrize("init", INITS)
def test_every_init_scheme(init):
    torch.manual_seed(0)
    model = build_model("mlp", input_shape=(1, 8, 8), n_outputs=10, config=_config(init=init, units=[32]))
    weight = model.net[1].weight
    if init == "zeros":
        assert torch.count_nonzero(weight) == 0
    elif init == "sparse":
        assert (weight == 0).float().mean() >= 0.85
    else:
        assert weight.std() > 0
    if init != "default":
        assert torch.count_nonzero(model.net[1].bias) == 0
    if init == "orthogonal":
        w = weight  # 32 x 64: rows orthonormal
        assert torch.allclose(w @ w.T, torch.eye(32), atol=1e-5)


def test_regression_output():
    model = build_model("mlp", input_shape=(1,), n_outputs=1, config=_config(units=[50, 50, 50], activation="tanh"))
    assert model(torch.zeros(3, 1)).shape == (3, 1)
