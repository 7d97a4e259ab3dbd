"""The search space: the ONLY module that calls ``trial.suggest_*``.

:func:`suggest` turns a spec and an Optuna trial into a *configuration*: a plain dict with
every training parameter resolved (searched, fixed, or default), per-layer widths as lists.
Per-layer widths are conditional on depth: ``units_l0 … units_l{n_layers-1}`` (MLP) or
``channels_l0 …`` (CNN) exist only for the layers the trial has. A custom model's own
parameters are sampled here too, by the names its spec gives them.
"""

from __future__ import annotations

from typing import Any

import optuna

from autotune.spec import ParamSpec, StudySpec


def parameter_names(spec: StudySpec) -> list[str]:
    """The parameters that make up a configuration for ``spec``'s model family."""
    return list(spec.parameters)


def suggest(trial: optuna.trial.BaseTrial | None, spec: StudySpec) -> dict[str, Any]:
    """Sample (or, for a ``FixedTrial``, look up) one configuration for ``spec``.

    With ``trial=None``, searched parameters take their defaults: the spec's default configuration.
    """
    config: dict[str, Any] = {}
    for name, info in spec.parameters.items():
        if info.per_layer:
            continue  # resolved below, once the depth is known
        param = spec.param(name) if trial is not None else None
        value = _suggest_one(trial, param, name) if param else spec.fixed.get(name, info.default)
        config[name] = list(value) if isinstance(value, tuple) else value

    per_layer = spec.per_layer
    if per_layer is None:  # a custom model: no per-layer widths of autotune's own
        return config
    param = spec.param(per_layer) if trial is not None else None
    fixed = spec.fixed.get(per_layer, spec.parameters[per_layer].default)
    if param is not None:
        config[per_layer] = [_suggest_one(trial, param, f"{per_layer}_l{i}") for i in range(config["n_layers"])]
    elif isinstance(fixed, tuple):
        config[per_layer] = list(fixed)
        config["n_layers"] = len(fixed)
    else:
        config[per_layer] = [fixed] * config["n_layers"]
    return config


def _suggest_one(trial: optuna.trial.BaseTrial, param: ParamSpec, name: str) -> Any:
    if param.kind == "categorical":
        return trial.suggest_categorical(name, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(name, int(param.low), int(param.high), step=int(param.step or 1), log=param.log)
    return trial.suggest_float(name, float(param.low), float(param.high), step=param.step, log=param.log)
