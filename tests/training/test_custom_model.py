"""A user's own model builder: spec parsing, the search space it gets, and every way it can be wrong."""

from __future__ import annotations

import textwrap

import optuna
import pytest
import torch
from torch import nn

from autotune.errors import ModelError, SpecError
from autotune.search.space import suggest
from autotune.spec.study import load_spec, parse_spec
from autotune.training.models import build_model, describe_structure, load_builder

MODEL_PY = """
from torch import nn

def build(params, input_shape, n_outputs):
    return nn.Sequential(nn.Flatten(), nn.Linear(input_shape[0], params["hidden"]), nn.Tanh(),
                         nn.Linear(params["hidden"], n_outputs))

def not_a_module(params, input_shape, n_outputs):
    return "a string"

def raises(params, input_shape, n_outputs):
    raise ValueError("hidden must be even")

def two_args(params, input_shape):
    return nn.Linear(1, 1)

def wrong_output(params, input_shape, n_outputs):
    return nn.Linear(input_shape[0], n_outputs + 1)

NOT_CALLABLE = 3
"""


def custom_spec(tmp_path, model: str = "models.py:build", **overrides) -> dict:
    (tmp_path / "models.py").write_text(MODEL_PY)
    spec = {
        "name": "custom-sine",
        "dataset": "sine",
        "model": model,
        "max_epochs": 2,
        "trials": 3,
        "validation_size": 0.2,
        "space": {
            "lr": {"low": 0.001, "high": 0.1, "log": True},
            "hidden": {"low": 4, "high": 32},
            "act": ["tanh", "relu"],
        },
        "fixed": {"optimizer": "adam", "batch_size": 64, "widths": [8, 4], "scale": 0.5},
    }
    spec.update(overrides)
    return spec


def test_a_builder_file_is_resolved_against_the_spec_folder_and_its_parameters_join_the_space(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "my.yaml"
    import yaml

    path.write_text(yaml.safe_dump(custom_spec(tmp_path / "sub", model="models.py:build"), sort_keys=False))
    spec = load_spec(str(path))
    assert spec.model == f"{tmp_path / 'sub' / 'models.py'}:build" and spec.family == "custom"
    assert spec.per_layer is None
    assert list(spec.parameters) == [
        "lr",
        "batch_size",
        "init",
        "optimizer",
        "weight_decay",
        "lr_schedule",
        "augment",
        "hidden",
        "act",
        "widths",
        "scale",
    ]
    config = suggest(optuna.trial.FixedTrial({"lr": 0.01, "hidden": 12, "act": "relu"}), spec)
    assert {k: config[k] for k in ("lr", "hidden", "act", "widths", "scale")} == {
        "lr": 0.01,
        "hidden": 12,
        "act": "relu",
        "widths": [8, 4],
        "scale": 0.5,
    }
    defaults = suggest(None, spec)  # the middle of each range (geometric on a log scale), the first choice
    assert (defaults["lr"], defaults["hidden"], defaults["act"]) == (0.01, 18, "tanh")
    again = parse_spec(spec.to_dict(), source="stored")  # as a stored study or a worker reads it back
    assert again.fingerprint() == spec.fingerprint() and again.model == spec.model


def test_the_builder_gets_only_the_models_parameters(tmp_path):
    spec = parse_spec(custom_spec(tmp_path), base_dir=tmp_path)
    config = suggest(optuna.trial.FixedTrial({"lr": 0.01, "hidden": 6, "act": "tanh"}), spec)
    model = build_model(spec.model, input_shape=(1,), n_outputs=1, config=config)
    assert isinstance(model, nn.Sequential) and model[1].out_features == 6
    assert (
        describe_structure(spec.model, input_shape=(1,), n_outputs=1, config=config)
        == "build(hidden=6, act=tanh, widths=[8, 4], scale=0.5)"
    )


def test_a_builder_from_an_importable_module(tmp_path, monkeypatch):
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "nets.py").write_text(MODEL_PY)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = parse_spec(custom_spec(tmp_path, model="mypkg.nets:build"))
    assert spec.model == "mypkg.nets:build"
    model = build_model(spec.model, input_shape=(1,), n_outputs=1, config=suggest(None, spec))
    assert model(torch.zeros(2, 1)).shape == (2, 1)


BAD_SPECS = [
    ("missing.py:build", "model: model file '{root}/missing.py' does not exist"),
    ("models.py:2build", "model: '2build' is not a function name"),
    ("not a module:build", "model: 'not a module' is neither a .py file nor a module name"),
    ("rnn", "model: must be one of mlp, cnn, or a model builder"),
]


@pytest.mark.parametrize("model, fragment", BAD_SPECS, ids=[m for m, _ in BAD_SPECS])
def test_bad_model_references_in_a_spec(tmp_path, model, fragment):
    with pytest.raises(SpecError) as info:
        parse_spec(custom_spec(tmp_path, model=model), base_dir=tmp_path)
    assert fragment.format(root=tmp_path) in str(info.value)


def test_trainer_parameters_keep_their_checks_and_user_names_must_be_identifiers(tmp_path):
    with pytest.raises(SpecError, match=r"space.lr.low: must be a number > 0 and <= 10, got -1"):
        parse_spec(custom_spec(tmp_path, space={"lr": {"low": -1, "high": 1}}), base_dir=tmp_path)
    with pytest.raises(SpecError, match=r"space.bad-name: a custom model's parameter name must be a Python identifier"):
        parse_spec(custom_spec(tmp_path, space={"bad-name": [1, 2]}), base_dir=tmp_path)
    with pytest.raises(SpecError, match=r"space.act.choices: must be numbers, strings or true/false"):
        parse_spec(custom_spec(tmp_path, space={"act": [[1], [2]]}), base_dir=tmp_path)


BAD_BUILDERS = [
    ("not_a_module", "model function '{ref}' returned str, not a torch.nn.Module"),
    ("raises", "model function '{ref}' raised ValueError: hidden must be even (at {root}/models.py:12; params "),
    (
        "two_args",
        "model function '{ref}' must take (params, input_shape, n_outputs); its signature is "
        "two_args(params, input_shape)",
    ),
    ("absent", "'{root}/models.py' has no function 'absent'"),
    ("NOT_CALLABLE", "'{root}/models.py' has no function 'NOT_CALLABLE'"),
]


@pytest.mark.parametrize("func, fragment", BAD_BUILDERS, ids=[f for f, _ in BAD_BUILDERS])
def test_builders_that_cannot_build_a_model(tmp_path, func, fragment):
    spec = parse_spec(custom_spec(tmp_path, model=f"models.py:{func}"), base_dir=tmp_path)
    with pytest.raises(ModelError) as info:
        build_model(spec.model, input_shape=(1,), n_outputs=1, config=suggest(None, spec))
    assert fragment.format(ref=spec.model, root=tmp_path) in str(info.value)


def test_a_module_that_fails_to_import(tmp_path):
    (tmp_path / "broken.py").write_text("import not_a_real_package_xyz\n")
    with pytest.raises(
        ModelError,
        match=r"cannot import '.*broken.py' for model '.*broken.py:build': "
        r"ModuleNotFoundError: No module named 'not_a_real_package_xyz'",
    ):
        load_builder(f"{tmp_path / 'broken.py'}:build")
    with pytest.raises(ModelError, match=r"cannot import 'no_such_pkg_abc.nets' .*ModuleNotFoundError"):
        load_builder("no_such_pkg_abc.nets:build")


def test_init_applies_to_a_custom_model(tmp_path):
    spec = parse_spec(custom_spec(tmp_path, fixed={"init": "zeros", "widths": 1}), base_dir=tmp_path)
    model = build_model(spec.model, input_shape=(1,), n_outputs=1, config=suggest(None, spec))
    assert all(float(p.detach().abs().sum()) == 0 for p in model.parameters())


def test_the_line_the_raises_case_names_is_the_raise():
    # the line numbers the 'raises' case above expects
    assert textwrap.dedent(MODEL_PY).splitlines()[11].strip() == 'raise ValueError("hidden must be even")'
