"""The search space: every family is sampled, per-layer widths follow depth, fixed values hold."""

from __future__ import annotations

import optuna

from autotune.search.space import suggest
from autotune.spec.study import load_spec, parse_spec
from tests.conftest import tiny_digits_spec


def _sample(spec, n):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    configs, params = [], []
    for _ in range(n):
        trial = study.ask()
        configs.append(suggest(trial, spec))
        params.append(dict(trial.params))
        study.tell(trial, 0.0)
    return configs, params


def test_every_choice_of_every_family_appears():
    spec = load_spec("mlp-mnist")
    configs, _ = _sample(spec, 300)
    for p in spec.space:
        if p.kind == "categorical":
            seen = {c[p.name] for c in configs}
            assert seen == set(p.choices), p.name
    depths = {c["n_layers"] for c in configs}
    assert depths == {1, 2, 3, 4}
    lrs = [c["lr"] for c in configs]
    assert 1e-4 <= min(lrs) and max(lrs) <= 0.3
    # a log scale puts about half the samples below the geometric mean (~5.5e-3)
    below = sum(lr < (1e-4 * 0.3) ** 0.5 for lr in lrs) / len(lrs)
    assert 0.35 < below < 0.65


def test_widths_are_conditional_on_depth():
    spec = load_spec("mlp-mnist")
    configs, params = _sample(spec, 60)
    for config, p in zip(configs, params):
        n = config["n_layers"]
        assert len(config["units"]) == n
        width_params = sorted(k for k in p if k.startswith("units_l"))
        assert width_params == [f"units_l{i}" for i in range(n)]
        assert config["units"] == [p[f"units_l{i}"] for i in range(n)]


def test_cnn_channels_follow_depth():
    spec = load_spec("cnn-mnist")
    configs, params = _sample(spec, 30)
    for config, p in zip(configs, params):
        assert len(config["channels"]) == config["n_layers"]
        assert {k for k in p if k.startswith("channels_l")} == {f"channels_l{i}" for i in range(config["n_layers"])}
        assert config["fc_units"] in (64, 128, 256)
        assert "units" not in config


def test_fixed_and_default_values_fill_the_configuration():
    spec = parse_spec(
        tiny_digits_spec(
            fixed={"optimizer": "sgd_momentum", "units": [32, 16]}, space={"lr": {"low": 0.01, "high": 0.1}}
        )
    )
    (config,), (params,) = _sample(spec, 1)
    assert set(params) == {"lr"}
    assert config["optimizer"] == "sgd_momentum"
    assert config["units"] == [32, 16] and config["n_layers"] == 2
    assert (config["activation"], config["init"], config["dropout"], config["batch_norm"]) == (
        "relu",
        "default",
        0.0,
        False,
    )


def test_fixed_trial_rebuilds_a_configuration():
    spec = load_spec("mlp-mnist")
    configs, params = _sample(spec, 3)
    for config, p in zip(configs, params):
        assert suggest(optuna.trial.FixedTrial(p), spec) == config
