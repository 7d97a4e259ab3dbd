"""Seed-batched training on real digits: each seed's own draws, bit-exact replays of a batch, the same learning."""

from __future__ import annotations

import math

import pytest
import torch

from autotune.base.seeding import seed_everything
from autotune.data.datasets import load_splits
from autotune.training.loop import evaluate, fit
from autotune.training.models import build_model
from autotune.training.seed_batch import SeedBatch, fit_seeds
from tests.training.test_train import _config

CNN = {"channels": [8], "kernel_size": 3, "fc_units": 32}
FULL = {"dropout": 0.3, "batch_norm": True, "augment": True, "lr_schedule": "cosine", "optimizer": "adamw"}


@pytest.fixture(scope="module")
def digits():
    return load_splits("digits", validation_size=0.2, seed=0)


def _history(result):
    return [(h.epoch, h.train_loss, h.train_accuracy, h.val_loss, h.val_accuracy) for h in result.history]


@pytest.mark.parametrize(
    "family, extra",
    [("mlp", {}), ("mlp", FULL), ("cnn", CNN), ("cnn", {**CNN, **FULL, "optimizer": "sgd_momentum"})],
)
def test_a_batch_replays_bit_exactly(digits, family, extra):
    config = _config(**extra)
    a = fit_seeds(config, digits, family=family, max_epochs=3, seeds=[5, 6, 7])
    b = fit_seeds(config, digits, family=family, max_epochs=3, seeds=[5, 6, 7])
    assert [_history(r) for r in a] == [_history(r) for r in b]
    for ra, rb in zip(a, b, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(ra.model.state_dict().values(), rb.model.state_dict().values()))
    if config["dropout"] > 0:  # the masks are drawn for the batch: another protocol than the seeds' own runs
        alone = [fit(config, digits, family=family, max_epochs=3, seed=s) for s in (5, 6, 7)]
        assert [_history(r) for r in a] != [_history(r) for r in alone]


@pytest.mark.parametrize(
    "family, extra",
    [
        ("mlp", {}),
        ("mlp", {**FULL, "dropout": 0.0}),
        ("cnn", {**CNN, "augment": True, "optimizer": "adam"}),
    ],
)
def test_without_dropout_each_seed_learns_as_its_own_run(digits, family, extra):
    """Without dropout (the one draw the batch makes for all its seeds) a seed's batched run takes its own run's
    draws (initialisation, data order, augmentation) and differs from it by rounding only."""
    config = _config(**extra)
    batched = fit_seeds(config, digits, family=family, max_epochs=4, seeds=[5, 6, 7])
    for result, seed in zip(batched, (5, 6, 7), strict=True):
        own = fit(config, digits, family=family, max_epochs=4, seed=seed)
        assert len(result.history) == 4 and not result.diverged
        assert abs(result.last.val_accuracy - own.last.val_accuracy) <= 0.02, seed
        assert result.last.train_loss == pytest.approx(own.last.train_loss, rel=0.05), seed


def test_each_seed_starts_from_its_own_runs_initialisation():
    """fit seeds every generator with the seed, then builds the model: the batch stacks exactly those weights."""
    config = _config(**FULL, units=[32, 16], n_layers=2, init="kaiming_normal")

    def built(seed):
        seed_everything(seed)
        return build_model("mlp", input_shape=(1, 8, 8), n_outputs=10, config=config)

    batch = SeedBatch([built(3), built(4)])
    for k, seed in enumerate((3, 4)):
        for name, p in built(seed).named_parameters():
            assert torch.equal(batch.stacked_parameter(name)[k], p), (seed, name)
    assert not torch.equal(batch.stacked_parameter("net.1.weight")[0], batch.stacked_parameter("net.1.weight")[1])


def test_without_dropout_a_seed_does_not_depend_on_its_neighbours(digits):
    """With no dropout (the only draw the batch shares), seed 5 learns the same in [5, 6] as in [5, 9] up to the
    batched kernels' rounding: its gradients are its own."""
    config = _config(batch_norm=True, augment=True)
    a = fit_seeds(config, digits, family="mlp", max_epochs=2, seeds=[5, 6])[0]
    b = fit_seeds(config, digits, family="mlp", max_epochs=2, seeds=[5, 9])[0]
    assert abs(a.last.train_loss - b.last.train_loss) <= 1e-4 * a.last.train_loss
    assert a.last.val_accuracy == pytest.approx(b.last.val_accuracy, abs=1 / 360)


def test_each_result_holds_its_seeds_trained_model(digits):
    results = fit_seeds(_config(batch_norm=True), digits, family="mlp", max_epochs=2, seeds=[1, 2])
    for result in results:
        loss, accuracy = evaluate(result.model, digits.val, classification=True)
        assert (loss, accuracy) == pytest.approx((result.last.val_loss, result.last.val_accuracy), rel=1e-5)
    assert not torch.equal(results[0].model.net[1].weight, results[1].model.net[1].weight)
    assert results[0].model.net[2].num_batches_tracked.item() == 2 * math.ceil(len(digits.train) / 64)


def test_a_diverged_seed_ends_its_history_as_its_own_run_would():
    splits = load_splits("sine", validation_size=0.2, seed=0)
    config = _config(lr=5.0, optimizer="sgd_momentum", units=[64, 64], n_layers=2, batch_size=16)
    results = fit_seeds(config, splits, family="mlp", max_epochs=20, seeds=[0, 1])
    for result in results:
        assert result.diverged and result.diverged_epoch == 1 and len(result.history) == 1
        assert not math.isfinite(result.last.train_loss)


def test_without_validation_the_figures_are_left_empty(digits):
    (result,) = fit_seeds(_config(), digits, family="mlp", max_epochs=2, seeds=[4], evaluate_val=False)
    assert [h.val_accuracy for h in result.history] == [None, None]
    assert all(math.isnan(h.val_loss) for h in result.history) and not result.diverged


def test_bf16_batches_too(digits):
    a = fit_seeds(_config(), digits, family="mlp", max_epochs=2, seeds=[1, 2], precision="bf16")
    b = fit_seeds(_config(), digits, family="mlp", max_epochs=2, seeds=[1, 2], precision="bf16")
    assert [_history(r) for r in a] == [_history(r) for r in b]
    assert {p.dtype for p in a[0].model.parameters()} == {torch.float32}


def test_a_users_own_model_batches_too(digits):
    """A custom builder (the glyphs example's CNN: batch norm, adaptive pooling, dropout) trains batched as the
    built-in families do: the same batch twice gives the same numbers, each result holds its seed's model."""
    from tests.conftest import REPO

    family = f"{REPO / 'examples' / 'glyphs' / 'model.py'}:build"
    config = _config(width=4, depth=1, dropout=0.2)
    a = fit_seeds(config, digits, family=family, max_epochs=2, seeds=[1, 2])
    b = fit_seeds(config, digits, family=family, max_epochs=2, seeds=[1, 2])
    assert [_history(r) for r in a] == [_history(r) for r in b]
    for result in a:
        loss, accuracy = evaluate(result.model, digits.val, classification=True)
        assert (loss, accuracy) == pytest.approx((result.last.val_loss, result.last.val_accuracy), rel=1e-5)
    assert a[0].last.val_accuracy != a[1].last.val_accuracy or a[0].last.val_loss != a[1].last.val_loss


def test_a_seed_that_diverges_leaves_its_neighbours_run_whole():
    """Seed 0 diverges at once at this learning rate and seed 3 does not (their own runs show it); batched together,
    seed 3 trains every epoch as it would alone, to the same loss up to the batched kernels' rounding."""
    splits = load_splits("sine", validation_size=0.2, seed=0)
    config = _config(lr=0.4, optimizer="sgd_momentum", units=[64, 64], n_layers=2, batch_size=16)
    alone = {seed: fit(config, splits, family="mlp", max_epochs=4, seed=seed) for seed in range(8)}
    bad = [s for s, r in alone.items() if r.diverged]
    good = [s for s, r in alone.items() if not r.diverged]
    assert bad and good, {s: r.diverged for s, r in alone.items()}
    first, second = fit_seeds(config, splits, family="mlp", max_epochs=4, seeds=[bad[0], good[0]])
    assert first.diverged and len(first.history) == alone[bad[0]].diverged_epoch
    assert not second.diverged and len(second.history) == 4
    assert second.last.val_loss == pytest.approx(alone[good[0]].last.val_loss, rel=1e-3)
