"""Configurations: the plain dict of every parameter a trial trains with, and how users change one.

A *configuration* is what :func:`autotune.search.space.suggest` builds (every parameter resolved,
per-layer widths as lists). This module makes one from a trial's parameters, from the spec's
defaults or from a user's mapping or file, applies ``--set KEY=VALUE`` overrides with the same
checks as a spec, names the components in which two configurations differ, and says which values
of a configuration a spec's space holds (:func:`fit`: what an imported or copied trial may give Optuna).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution

from autotune.errors import ConfigError, SpecError
from autotune.search.space import contains, layout, parameter_names, suggest
from autotune.spec.params import Checker, check_value, format_number
from autotune.spec.study import StudySpec


def config_from_params(spec: StudySpec, params: dict[str, Any]) -> dict[str, Any]:
    """The full configuration of a trial with these Optuna parameters (e.g. ``trial.params``)."""
    with warnings.catch_warnings():  # FixedTrial warns about values outside the space; we flag those ourselves
        warnings.simplefilter("ignore")
        return suggest(optuna.trial.FixedTrial(params), spec)


def config_of(spec: StudySpec, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """The configuration ``trial`` trained with. A trial imported from a hand table records its whole
    configuration (user attribute ``config``): values outside the space are not among its Optuna parameters."""
    recorded = trial.user_attrs.get("config")
    if isinstance(recorded, dict):
        return config_from_mapping(spec, recorded, source=f"trial {trial.number}'s recorded configuration")
    return config_from_params(spec, trial.params)


def default_config(spec: StudySpec) -> dict[str, Any]:
    """The spec's default configuration: fixed values, else autotune's defaults (the ablation baseline)."""
    return suggest(None, spec)


def config_from_mapping(spec: StudySpec, data: Any, *, source: str) -> dict[str, Any]:
    """A configuration from a user's mapping of parameter values; missing ones take the spec defaults."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a configuration must be a mapping of parameter to value")
    config = default_config(spec)
    overrides = {str(k): v for k, v in data.items()}
    config, _ = apply_overrides(spec, config, overrides, source=source)
    return config


def load_config_file(path: str, spec: StudySpec) -> dict[str, Any]:
    """A configuration from YAML/JSON: a mapping of parameter values, or {config: {...}} as export writes."""
    return config_from_mapping(spec, read_config_mapping(path), source=path)


def read_config_mapping(path: str) -> dict[str, Any]:
    """The mapping of parameter values in a YAML/JSON config file, unchecked (:func:`load_config_file` checks it)."""
    data = _read_config_document(path)
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data = data["config"]
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping of parameter to value, got {type(data).__name__}")
    return data


def exported_trial(path: str) -> tuple[str, int] | None:
    """(study, trial) when the config file is an export's best.yaml/.json (which names both), else None. The file is
    read as :func:`read_config_mapping` reads it, with the same errors."""
    data = _read_config_document(path)
    if isinstance(data, dict) and isinstance(data.get("study"), str) and isinstance(data.get("trial"), int):
        return data["study"], data["trial"]
    return None


def _read_config_document(path: str) -> Any:
    """A YAML/JSON config file as parsed, or a ConfigError naming the file."""
    import yaml

    try:
        with open(path, encoding="utf-8") as file:
            return yaml.safe_load(file.read())
    except OSError as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc.strerror}") from None
    except yaml.YAMLError:
        raise ConfigError(f"config file '{path}' is not valid YAML/JSON") from None


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``["lr=0.01", "units=[256,128]"]`` → ``{"lr": 0.01, "units": [256, 128]}`` (values read as YAML)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r} is not KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"--set {key.strip()}: cannot parse value {text!r}") from None
    return out


def override_keys(spec: StudySpec, config: dict[str, Any]) -> list[str]:
    per_layer = spec.per_layer
    return parameter_names(spec) + ([f"{per_layer}_l{i}" for i in range(len(config[per_layer]))] if per_layer else [])


def apply_overrides(
    spec: StudySpec, config: dict[str, Any], overrides: dict[str, Any], *, source: str = "--set"
) -> tuple[dict[str, Any], list[str]]:
    """Apply typed overrides to a configuration. Returns (new configuration, notes).

    Values are checked against each parameter's type and bounds (errors name the allowed keys
    or values); a value outside the spec's search space is allowed and noted.
    """
    per_layer = spec.per_layer or "\0"  # a custom model has no per-layer keys
    parameters = spec.parameters
    config = {k: (list(v) if isinstance(v, list) else v) for k, v in config.items()}
    allowed = override_keys(spec, config)
    ctx = Checker(source)
    notes: list[str] = []
    layer_keys = sorted((k for k in overrides if k.startswith(f"{per_layer}_l")), key=lambda k: k)
    for key in [k for k in overrides if k not in layer_keys] + layer_keys:
        value = overrides[key]
        name = per_layer if key.startswith(f"{per_layer}_l") else key
        if name not in parameters or key not in allowed and not key.startswith(f"{per_layer}_l"):
            raise ConfigError(f"{source}: unknown parameter {key!r}; allowed: {', '.join(allowed)}")
        info = parameters[name]
        try:
            if key == per_layer:
                values = value if isinstance(value, list) else [value] * config["n_layers"]
                checked: Any = [check_value(ctx, f"{key}[{i}]", info, v) for i, v in enumerate(values)]
                config["n_layers"] = len(checked)
            elif name == per_layer:
                index = int(key.rsplit("_l", 1)[1])
                if index >= config["n_layers"]:
                    raise ConfigError(f"{source}: '{key}' does not exist with n_layers={config['n_layers']}")
                checked = config[per_layer][:]
                checked[index] = check_value(ctx, key, info, value)
            else:
                checked = check_value(ctx, key, info, value)
                checked = list(checked) if isinstance(checked, tuple) else checked
        except SpecError as exc:
            raise ConfigError(*exc.args) from None
        if key == "n_layers":  # grow by repeating the last width, shrink by dropping the deepest layers
            widths = config[per_layer]
            config[per_layer] = (widths + [widths[-1]] * checked)[:checked]
            config["n_layers"] = checked
        elif name == per_layer:
            config[per_layer] = checked
        else:
            config[key] = checked
        notes += _space_notes(spec, name, checked)
    return config, notes


def _space_notes(spec: StudySpec, name: str, value: Any) -> list[str]:
    param = spec.param(name)
    if param is None:
        return []
    values = value if isinstance(value, list) else [value]
    outside = [v for v in values if not param.contains(v)]
    if not outside:
        return []
    bounds = f"choices {list(param.choices)}" if param.kind == "categorical" else f"[{param.low}, {param.high}]"
    return [f"{name}={outside[0]} is outside the search space ({bounds})"]


def describe_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    keys = [k for k in after if before.get(k) != after[k]]
    return ", ".join(f"{k}={show(after[k])}" for k in keys) or "(none)"


def show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def components(spec: StudySpec, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The parameters in which two configurations differ; depth and per-layer widths form one 'structure'."""
    per_layer = spec.per_layer
    out = []
    for key in a:
        if per_layer and key in ("n_layers", per_layer):
            if "structure" not in out and (a["n_layers"], a[per_layer]) != (b["n_layers"], b[per_layer]):
                out.append("structure")
        elif a[key] != b[key]:
            out.append(key)
    return out


def with_component(spec: StudySpec, config: dict[str, Any], source: dict[str, Any], component: str) -> dict[str, Any]:
    keys = ("n_layers", spec.per_layer) if component == "structure" else (component,)
    out = dict(config)
    for key in keys:
        out[key] = source[key]
    return out


@dataclass(frozen=True)
class Outside:
    """A value of a configuration that a spec's space does not hold, or that the spec trains otherwise."""

    name: str  # a parameter, or a per-layer one (units_l2)
    value: Any
    allowed: str  # "choices 64, 128, 256, 512", "[0.0001, 0.3], log", "fixed at adam by the spec"

    def __str__(self) -> str:
        return f"{self.name}={show(self.value)} ({self.allowed})"


@dataclass(frozen=True)
class SpaceFit:
    """How a configuration sits in a spec's space: the Optuna parameters (with the spec's distributions) of the
    values the space holds, and every value it does not (:class:`Outside`)."""

    params: dict[str, Any]
    distributions: dict[str, BaseDistribution]
    outside: tuple[Outside, ...]


def fit(spec: StudySpec, config: dict[str, Any]) -> SpaceFit:
    """Which values of ``config`` ``spec`` can hold as Optuna parameters of one trial.

    A searched value outside its range or choices, and a value the spec does not search but fixes (or leaves
    at autotune's default) at something else, are *outside*: a trial can carry them only outside Optuna's
    parameters (Optuna validates a finished trial's parameters against their distributions, its storage
    refuses other choices for a categorical parameter the study already has, and TPE reads every stored
    value through the spec's distributions).
    """
    placed, trained = layout(spec, config)
    params, dists, outside = {}, {}, []
    for name, (value, dist) in placed.items():
        if contains(dist, value):
            params[name], dists[name] = value, dist
        else:
            outside.append(Outside(name, value, _describe(dist)))
    searched = {p.name for p in spec.space}
    for name, value in config.items():
        if name in searched or trained.get(name) == value:
            continue
        held = trained.get(name)
        how = "fixed at" if name in spec.fixed else "not searched; the spec trains with"
        outside.append(Outside(name, value, f"{how} {show(held)}"))
    return SpaceFit(params, dists, tuple(outside))


def _describe(dist: BaseDistribution) -> str:
    if isinstance(dist, CategoricalDistribution):
        return "choices " + ", ".join(show(c) for c in dist.choices)
    low, high = format_number(dist.low), format_number(dist.high)  # type: ignore[attr-defined]
    extra = (", log" if dist.log else "") + (  # type: ignore[attr-defined]
        f", step {format_number(dist.step)}" if dist.step not in (None, 1) else ""
    )  # type: ignore[attr-defined]
    return f"[{low}, {high}]{extra}"
