"""The search space: the ONLY module that calls ``trial.suggest_*``.

:func:`suggest` turns a spec and an Optuna trial into a *configuration*: a plain dict with
every training parameter resolved (searched, fixed, or default), per-layer widths as lists.
Per-layer widths are conditional on depth: ``units_l0 … units_l{n_layers-1}`` (MLP) or
``channels_l0 …`` (CNN) exist only for the layers the trial has. A custom model's own
parameters are sampled here too, by the names its spec gives them.

:func:`layout` runs the same code without sampling: which Optuna parameters, with which
distributions, a trial of a given configuration holds (what an imported or copied trial needs).
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from autotune.spec.study import ParamSpec, StudySpec


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


def layout(spec: StudySpec, config: dict[str, Any]) -> tuple[dict[str, tuple[Any, BaseDistribution]], dict[str, Any]]:
    """The Optuna parameters a trial of ``config`` holds under ``spec``: name -> (the configuration's value,
    the distribution :func:`suggest` samples it from), and the configuration ``spec`` trains with those
    values (its fixed values and defaults filled in). Values are returned as they are, inside the space or not."""
    values = {k: v for k, v in config.items() if not isinstance(v, list)}
    per_layer = spec.per_layer
    if per_layer is not None:
        values.update({f"{per_layer}_l{i}": v for i, v in enumerate(config[per_layer])})
    recorder = _Recorder(values)
    trained = suggest(recorder, spec)  # type: ignore[arg-type]  # answers the suggest_* calls suggest makes
    return {name: (values.get(name), dist) for name, dist in recorder.distributions.items()}, trained


def contains(distribution: BaseDistribution, value: Any) -> bool:
    """Whether Optuna's ``distribution`` holds ``value`` (bools are not numbers, 1 is not 1.0 among choices)."""
    if isinstance(distribution, CategoricalDistribution):
        return any(value == c and type(value) is type(c) for c in distribution.choices)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(distribution, IntDistribution) and not isinstance(value, int):
        return False
    if not distribution.low <= value <= distribution.high:  # type: ignore[attr-defined]
        return False
    step = distribution.step  # type: ignore[attr-defined]
    if step is None:
        return True
    steps = (value - distribution.low) / step  # type: ignore[attr-defined]
    return abs(steps - round(steps)) < 1e-9


class _Recorder:
    """Stands in for a trial: answers each ``suggest_*`` call with the configuration's own value and records
    the distribution Optuna would have sampled it from (built as Optuna's own ``Trial.suggest_*`` builds it)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.distributions: dict[str, BaseDistribution] = {}

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        self.distributions[name] = CategoricalDistribution(choices)
        return self.values.get(name)  # None: the configuration has no such layer

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> Any:
        self.distributions[name] = IntDistribution(low, high, log=log, step=step)
        return self.values.get(name)  # None: the configuration has no such layer

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> Any:
        self.distributions[name] = FloatDistribution(low, high, log=log, step=step)
        return self.values.get(name)  # None: the configuration has no such layer
