"""Property-based tests (hypothesis) of the two parsers users feed by hand: study specs and --set.

Whatever the input, a parser returns a value or raises the project's own error (never a
TypeError, KeyError, … that would reach the user as a traceback); valid input survives a
round trip unchanged.
"""

from __future__ import annotations

import json
import math
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotune.errors import AutotuneError, SpecError
from autotune.search.configs import apply_overrides, default_config, parse_set
from autotune.spec.study import ACTIVATIONS, OPTIMIZERS, PARAMETERS, StudySpec, parse_spec
from tests.conftest import tiny_digits_spec

# No subnormal floats: training (torch.set_flush_denormal) switches them off for the whole process.
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_subnormal=False),
    st.text(max_size=12),
    st.sampled_from(
        ["mnist", "digits", "mlp", "cnn", "relu", "adam", "tpe", "median", "val_loss", "model.py:build", "npz"]
    ),
)
keys = st.one_of(
    st.sampled_from(
        sorted(
            {
                *tiny_digits_spec(),
                "dataset",
                "objectives",
                "constraints",
                "type",
                "path",
                "low",
                "high",
                "log",
                "step",
                "choices",
                "name",
                *PARAMETERS,
            }
        )
    ),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


def _set_in(data: dict, path: list[str], value) -> dict:
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return data


@SETTINGS
@given(path=st.lists(keys, min_size=1, max_size=3), value=values)
def test_any_change_to_a_valid_spec_parses_or_raises_a_spec_error(tmp_path_factory, path, value):
    data = _set_in(tiny_digits_spec(), path, value)
    try:
        spec = parse_spec(data, base_dir=tmp_path_factory.getbasetemp())
    except SpecError as exc:
        assert str(exc).startswith("<spec>") and "\n" not in str(exc)
        return
    assert isinstance(spec, StudySpec)
    assert parse_spec(spec.to_dict()).fingerprint() == spec.fingerprint()


@SETTINGS
@given(data=values)
def test_any_document_parses_or_raises_a_spec_error(data):
    try:
        parse_spec(data)
    except SpecError:
        pass


positive = st.floats(min_value=1e-6, max_value=10.0, allow_nan=False, allow_subnormal=False)


@st.composite
def valid_specs(draw) -> dict:
    lo, hi = sorted([draw(positive), draw(positive)])
    space = {
        "lr": {"low": lo, "high": hi, "log": draw(st.booleans())},
        "batch_size": draw(st.lists(st.integers(1, 512), min_size=1, max_size=4, unique=True)),
        "activation": draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=1, max_size=3, unique=True)),
    }
    if draw(st.booleans()):
        a, b = sorted([draw(st.integers(1, 6)), draw(st.integers(1, 6))])
        space["n_layers"] = {"low": a, "high": b}
        space["units"] = {
            "low": draw(st.integers(1, 64)),
            "high": draw(st.integers(64, 8192)),
            "step": draw(st.sampled_from([1, 2, 8])),
        }
    fixed = {
        "optimizer": draw(st.sampled_from(OPTIMIZERS)),
        "dropout": draw(st.floats(0.0, 0.99, allow_nan=False, allow_subnormal=False)),
    }
    return {
        "name": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)),
        "dataset": draw(st.sampled_from(["digits", "mnist", "fashion-mnist"])),
        "model": "mlp",
        "max_epochs": draw(st.integers(1, 10000)),
        "seed": draw(st.integers(0, 2**31 - 1)),
        "validation_size": draw(st.one_of(st.floats(0.01, 0.99, allow_subnormal=False), st.integers(1, 10**6))),
        "fixed": fixed,
        "space": space,
    }


@SETTINGS
@given(data=valid_specs())
def test_valid_specs_round_trip_exactly(data):
    spec = parse_spec(data)
    again = parse_spec(spec.to_dict())
    assert again.to_dict() == spec.to_dict() and again.fingerprint() == spec.fingerprint()
    assert again.space == spec.space and dict(again.fixed) == dict(spec.fixed)


# --------------------------------------------------------------------------------------
# --set KEY=VALUE


@SETTINGS
@given(items=st.lists(st.text(max_size=30), max_size=5))
def test_any_set_items_parse_or_raise_an_autotune_error(items):
    try:
        out = parse_set(items)
    except AutotuneError as exc:
        assert "\n" not in str(exc)
        return
    assert set(out) == {i.partition("=")[0].strip() for i in items}


json_values = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False).filter(lambda f: "e" not in repr(f)),
        st.text(alphabet=string.ascii_letters + string.digits + " _-.,:/é", max_size=10),
    ),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)


@SETTINGS
@given(pairs=st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True), json_values, max_size=4))
def test_set_values_written_as_json_come_back_unchanged(pairs):
    out = parse_set([f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in pairs.items()])
    assert out == pairs


@SETTINGS
@given(overrides=st.dictionaries(st.sampled_from([*PARAMETERS, "units_l0", "units_l5", "colour"]), values, max_size=3))
def test_any_override_of_a_configuration_applies_or_raises_an_autotune_error(overrides):
    spec = parse_spec(tiny_digits_spec())
    try:
        config, notes = apply_overrides(spec, default_config(spec), overrides)
    except AutotuneError as exc:
        assert "\n" not in str(exc)
        return
    for key, value in overrides.items():
        if (
            key in config
            and not isinstance(value, (list, dict))
            and not (isinstance(value, float) and math.isnan(value))
        ):
            assert config[key] == value or isinstance(config[key], list)
