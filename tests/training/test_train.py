"""The trainer on real data: learns, is bit-reproducible on the CPU, stops on divergence."""

from __future__ import annotations

import math

import pytest
import torch

from autotune.data.datasets import load_splits
from autotune.training.loop import augment_batch, evaluate, fit, make_optimizer
from autotune.training.models import build_model


def _config(**kw):
    base = dict(
        lr=0.01,
        batch_size=64,
        n_layers=1,
        units=[64],
        activation="relu",
        init="default",
        optimizer="adam",
        weight_decay=0.0,
        dropout=0.0,
        batch_norm=False,
        lr_schedule="none",
        augment=False,
    )
    base.update(kw)
    return base


@pytest.fixture(scope="module")
def digits():
    return load_splits("digits", validation_size=0.2, seed=0)


def test_fit_learns_digits(digits):
    result = fit(_config(), digits, family="mlp", max_epochs=5, seed=3)
    assert len(result.history) == 5
    assert result.history[-1].val_accuracy > 0.9
    assert result.history[-1].train_loss < result.history[0].train_loss
    assert not result.diverged and not result.stopped_early


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"dropout": 0.3, "batch_norm": True, "augment": True, "lr_schedule": "cosine", "optimizer": "sgd_momentum"},
    ],
)
def test_same_seed_gives_bit_identical_metrics(digits, extra):
    a = fit(_config(**extra), digits, family="mlp", max_epochs=3, seed=11)
    b = fit(_config(**extra), digits, family="mlp", max_epochs=3, seed=11)
    c = fit(_config(**extra), digits, family="mlp", max_epochs=3, seed=12)

    def strip(r):
        return [(h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy) for h in r.history]

    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


@pytest.mark.parametrize(
    "family, extra",
    [
        ("mlp", {}),
        (
            "mlp",
            {"dropout": 0.3, "batch_norm": True, "augment": True, "lr_schedule": "cosine", "optimizer": "sgd_momentum"},
        ),
        ("cnn", {"channels": [8], "kernel_size": 3, "fc_units": 32}),
    ],
)
def test_bf16_is_bit_identical_run_to_run_and_differs_from_fp32(digits, family, extra):
    config = _config(**extra)
    a = fit(config, digits, family=family, max_epochs=2, seed=11, precision="bf16")
    b = fit(config, digits, family=family, max_epochs=2, seed=11, precision="bf16")
    c = fit(config, digits, family=family, max_epochs=2, seed=11)

    def strip(r):
        return [(h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy) for h in r.history]

    assert strip(a) == strip(b)
    assert strip(a) != strip(c)  # the bf16 path was taken
    assert abs(a.history[-1].val_accuracy - c.history[-1].val_accuracy) < 0.01  # and learns as fp32 does here
    # weights (and so their gradients and the optimiser state) stay fp32
    assert {p.dtype for p in a.model.parameters()} == {torch.float32}


@pytest.mark.parametrize(
    "family, extra",
    [
        ("mlp", {"optimizer": "adamw", "dropout": 0.3, "batch_norm": True, "augment": True}),
        ("mlp", {"optimizer": "sgd_momentum", "lr_schedule": "cosine"}),
        ("mlp", {"optimizer": "sgd"}),
        ("cnn", {"channels": [8], "kernel_size": 3, "fc_units": 32, "augment": True, "optimizer": "adam"}),
    ],
)
def test_fused_step_is_bit_identical_run_to_run_and_learns_as_the_plain_one(digits, family, extra):
    config = _config(**extra)
    a = fit(config, digits, family=family, max_epochs=2, seed=11, step="fused")
    b = fit(config, digits, family=family, max_epochs=2, seed=11, step="fused")
    plain = fit(config, digits, family=family, max_epochs=2, seed=11)

    def strip(r):
        return [(h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy) for h in r.history]

    assert strip(a) == strip(b)
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True))
    # the same draws (initialisation, order, dropout, augmentation), summed in another order: near, not equal
    assert abs(a.history[-1].val_accuracy - plain.history[-1].val_accuracy) <= 0.02
    assert abs(a.history[-1].train_loss - plain.history[-1].train_loss) <= 0.02 * plain.history[-1].train_loss


def test_fused_step_fuses_the_optimiser_and_plain_does_not():
    model = build_model("mlp", input_shape=(1, 8, 8), n_outputs=10, config=_config(optimizer="adamw"))
    assert make_optimizer(model, _config(optimizer="adamw"), "fused").defaults["fused"] is True
    assert not make_optimizer(model, _config(optimizer="adamw")).defaults["fused"]


def test_fused_augmentation_draws_the_same_transforms_and_builds_the_same_grid():
    x = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    plain_gen, fused_gen = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    plain, fused = augment_batch(x, plain_gen), augment_batch(x, fused_gen, "fused")
    assert torch.equal(plain_gen.get_state(), fused_gen.get_state())  # the same random numbers were drawn
    assert not torch.equal(plain, fused)  # computed differently ...
    assert (plain - fused).abs().max().item() < 1e-4  # ... to the same images up to rounding


def test_fp32_is_the_default_precision(digits):
    def strip(r):
        return [(h.train_loss, h.val_loss) for h in r.history]

    assert strip(fit(_config(), digits, family="mlp", max_epochs=1, seed=5)) == strip(
        fit(_config(), digits, family="mlp", max_epochs=1, seed=5, precision="fp32")
    )


def test_evaluate_in_bf16_takes_the_loss_in_fp32(digits):
    torch.manual_seed(0)
    model = build_model("mlp", input_shape=digits.info.shape, n_outputs=10, config=_config())
    fp32, bf16 = (evaluate(model, digits.val, classification=True, precision=p) for p in ("fp32", "bf16"))
    assert fp32 != bf16 and abs(fp32[0] - bf16[0]) < 0.05 * fp32[0]  # near, not equal


def test_cnn_trains_on_digits(digits):
    config = _config(channels=[8], kernel_size=3, fc_units=32, n_layers=1)
    result = fit(config, digits, family="cnn", max_epochs=3, seed=0)
    assert result.history[-1].val_accuracy > 0.8


def test_divergence_stops_at_once():
    splits = load_splits("sine", validation_size=0.2, seed=0)
    config = _config(lr=5.0, optimizer="sgd_momentum", units=[64, 64], n_layers=2, batch_size=16)
    result = fit(config, splits, family="mlp", max_epochs=20, seed=0)
    assert result.diverged
    assert result.diverged_epoch == 1
    assert len(result.history) == 1
    assert not math.isfinite(result.history[-1].train_loss)


def test_on_epoch_can_stop_training(digits):
    seen = []
    result = fit(
        _config(),
        digits,
        family="mlp",
        max_epochs=5,
        seed=0,
        on_epoch=lambda stats: seen.append(stats.epoch) or stats.epoch == 2,
    )
    assert seen == [1, 2]
    assert result.stopped_early and len(result.history) == 2


def test_regression_reports_loss_only():
    splits = load_splits("sine", validation_size=0.2, seed=0)
    result = fit(_config(units=[32, 32], n_layers=2, activation="tanh"), splits, family="mlp", max_epochs=5, seed=0)
    last = result.history[-1]
    assert last.val_accuracy is None and last.train_accuracy is None
    assert last.val_loss < 0.1


@pytest.mark.slow
def test_fit_on_a_real_mnist_subset(mnist_available):
    splits = load_splits("mnist", validation_size=2000, seed=0, train_subset=5000, data_dir=mnist_available)
    result = fit(_config(units=[128], batch_size=128, lr=1e-3), splits, family="mlp", max_epochs=2, seed=0)
    assert result.history[-1].val_accuracy > 0.85
