"""A spec's ``space`` and ``fixed``: the searched parameters (a range or choices each), the fixed values, a
custom model's own parameters, and the checks that a built-in model's layers fit (per-layer lists, CNN depth).

:func:`autotune.spec.study.parse_spec` calls the parsers; each raises a :class:`SpecError` that names the file,
the key, the bad value and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from autotune.spec.params import (
    PARAMETERS,
    TRAINING_PARAMS,
    Checker,
    ParamInfo,
    check_value,
    cnn_depth_problem,
    float_from_str,
    format_number,
    param_info,
    plain_scalar,
    show_value,
)

PARAM_KEYS = {"low", "high", "log", "step", "choices"}


@dataclass(frozen=True)
class ParamSpec:
    """One searched parameter: a range (``low``/``high``, optional ``log``/``step``) or ``choices``."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies inside this parameter's search space."""
        if self.kind == "categorical":
            return any(value == c and type(value) is type(c) for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return self.low <= value <= self.high  # type: ignore[operator]


def user_params(space: tuple[ParamSpec, ...], fixed: dict[str, Any]) -> tuple[ParamInfo, ...]:
    """A custom model's own parameters; the default (for 'defaults' baselines) of a searched one is
    the middle of its range (geometric on a log scale) or its first choice."""
    out = []
    for p in space:
        if p.name in TRAINING_PARAMS:
            continue
        if p.kind == "categorical":
            default: Any = p.choices[0]
        else:
            mid = math.sqrt(p.low * p.high) if p.log else (p.low + p.high) / 2  # type: ignore[operator]
            if p.step:
                mid = p.low + round((mid - p.low) / p.step) * p.step  # type: ignore[operator]
            default = int(round(mid)) if p.kind == "int" else float(mid)
        out.append(ParamInfo(p.name, "any", default, "a parameter of the custom model", families=("custom",)))
    for name, value in fixed.items():
        if name not in TRAINING_PARAMS:
            out.append(ParamInfo(name, "any", value, "a parameter of the custom model", families=("custom",)))
    return tuple(out)


def parse_fixed(ctx: Checker, raw: Any, *, model: str, is_image: bool) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ctx.error("fixed", f"must be a mapping of parameter to value, got {show_value(raw)}")
    fixed: dict[str, Any] = {}
    for name, value in raw.items():
        info = param_info(ctx, "fixed", str(name), model=model, is_image=is_image)
        key = f"fixed.{name}"
        if info.per_layer and isinstance(value, list):
            if not value:
                raise ctx.error(key, "a per-layer list must not be empty")
            fixed[name] = tuple(check_value(ctx, f"{key}[{i}]", info, v) for i, v in enumerate(value))
        else:
            fixed[name] = check_value(ctx, key, info, value)
    return fixed


def parse_space(ctx: Checker, raw: Any, *, model: str, is_image: bool, fixed: dict[str, Any]) -> tuple[ParamSpec, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ctx.error("space", f"must be a non-empty mapping of parameter to range or choices, got {show_value(raw)}")
    out = []
    for name, body in raw.items():
        name = str(name)
        info = param_info(ctx, "space", name, model=model, is_image=is_image)
        key = f"space.{name}"
        if name in fixed:
            raise ctx.error(key, "is also under 'fixed'; a parameter is either searched or fixed")
        if isinstance(body, list):
            body = {"choices": body}
        body = ctx.mapping(body, key, PARAM_KEYS)
        if "choices" in body:
            extra = sorted(set(body) - {"choices"})
            if extra:
                raise ctx.error(f"{key}.{extra[0]}", "cannot be combined with 'choices'")
            choices = body["choices"]
            if not isinstance(choices, list) or not choices:
                raise ctx.error(f"{key}.choices", f"must be a non-empty list, got {show_value(choices)}")
            if info.kind == "any" and not all(plain_scalar(c) for c in choices):
                raise ctx.error(f"{key}.choices", f"must be numbers, strings or true/false, got {show_value(choices)}")
            values = tuple(check_value(ctx, f"{key}.choices[{i}]", info, c) for i, c in enumerate(choices))
            if len(set(values)) != len(values):
                raise ctx.error(f"{key}.choices", f"has duplicates: {list(values)}")
            out.append(ParamSpec(name=name, kind="categorical", choices=values))
            continue
        if info.kind in ("choice", "bool"):
            allowed = ", ".join(str(a) for a in info.allowed)
            raise ctx.error(key, f"takes 'choices' (a list drawn from {allowed}), not a range")
        if info.kind == "any":  # a custom model's range: integers if both ends are, else floats
            ends = [body.get("low"), body.get("high")]
            whole = all(isinstance(v, int) and not isinstance(v, bool) for v in ends)
            info = replace(info, kind="int" if whole else "float")
        for req in ("low", "high"):
            if req not in body:
                raise ctx.error(key, f"needs 'low' and 'high' (or 'choices'); '{req}' is missing")
        low = check_value(ctx, f"{key}.low", info, body["low"])
        high = check_value(ctx, f"{key}.high", info, body["high"])
        log = ctx.boolean(body, "log", False) if "log" in body else False
        if low > high:
            raise ctx.error(key, f"low must be <= high, got low={format_number(low)} > high={format_number(high)}")
        if log and low <= 0:
            raise ctx.error(f"{key}.low", f"must be > 0 on a log scale, got {format_number(low)}")
        step = body.get("step")
        if step is not None:
            if log:
                raise ctx.error(f"{key}.step", "cannot be combined with log: true")
            if isinstance(step, str) and info.kind == "float":
                step = float_from_str(
                    step, ctx.error(f"{key}.step", f"must be a positive number, got {show_value(step)}")
                )
            if (
                isinstance(step, bool)
                or not isinstance(step, (int, float))
                or step <= 0
                or (info.kind == "int" and not isinstance(step, int))
            ):
                kind = "a positive integer" if info.kind == "int" else "a positive number"
                raise ctx.error(f"{key}.step", f"must be {kind}, got {show_value(step)}")
        out.append(ParamSpec(name=name, kind=info.kind, low=low, high=high, log=log, step=step))
    return tuple(out)


def value_range(space: tuple[ParamSpec, ...], fixed: Mapping[str, Any], name: str) -> tuple[Any, Any]:
    """The smallest and largest value ``name`` can take: its range or choices, else its fixed value or default."""
    param = next((p for p in space if p.name == name), None)
    if param is not None:
        return (min(param.choices), max(param.choices)) if param.kind == "categorical" else (param.low, param.high)
    value = fixed.get(name, PARAMETERS[name].default)
    return value, value


def deepest(space: tuple[ParamSpec, ...], fixed: Mapping[str, Any], per_layer: str) -> int:
    """The most layers a trial can have: the top of n_layers, or the length of a fixed per-layer list."""
    listed = fixed.get(per_layer)
    if isinstance(listed, tuple) and "n_layers" not in fixed and not any(p.name == "n_layers" for p in space):
        return len(listed)
    return value_range(space, fixed, "n_layers")[1]


def check_layers(
    ctx: Checker, space: tuple[ParamSpec, ...], fixed: dict[str, Any], *, model: str, image_size: tuple[int, int] | None
) -> None:
    """Per-layer lists must match the depth; CNN depth must fit the image (each block halves it)."""
    depth_spec = next((p for p in space if p.name == "n_layers"), None)
    per_layer = "units" if model == "mlp" else "channels"
    listed = fixed.get(per_layer)
    if isinstance(listed, tuple):
        if depth_spec is not None:
            raise ctx.error(
                f"fixed.{per_layer}",
                "a per-layer list needs a fixed depth, but n_layers is searched; give a single value instead",
            )
        depth = fixed.get("n_layers", len(listed))
        if depth != len(listed):
            raise ctx.error(f"fixed.{per_layer}", f"lists {len(listed)} layers but n_layers is {depth}")
    if model == "cnn" and image_size is not None:
        problem = cnn_depth_problem(image_size, deepest(space, fixed, per_layer))
        if problem:
            raise ctx.error("n_layers", problem)
