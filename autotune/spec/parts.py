"""The parts of a study spec: one small dataclass and one parser per key (sampler, pruner,
objectives, constraints, final, confirm, stop, dataset, model, fixed, space).

:func:`autotune.spec.study.parse_spec` calls these in turn; each raises a :class:`SpecError` that
names the file, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autotune.data.sources import SOURCE_KINDS, DataSource
from autotune.spec.params import (
    ALL_METRICS,
    COST_METRICS,
    IDENT_RE,
    METRICS,
    MODELS,
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

#: Every key a spec may have at its top level.
TOP_KEYS = {
    "name",
    "description",
    "dataset",
    "model",
    "metric",
    "direction",
    "objectives",
    "constraints",
    "max_epochs",
    "trials",
    "validation_size",
    "train_subset",
    "seed",
    "sampler",
    "pruner",
    "fixed",
    "space",
    "final",
    "confirm",
    "stop",
    "precision",
}
REQUIRED_KEYS = ("dataset", "model", "space")
PARAM_KEYS = {"low", "high", "log", "step", "choices"}
SAMPLER_KEYS = {
    "tpe": {"name", "n_startup_trials", "multivariate"},
    "random": {"name"},
    "nsga2": {"name", "population_size"},
}
PRUNER_KEYS = {
    "median": {"name", "n_startup_trials", "n_warmup_steps"},
    "successive_halving": {"name", "min_resource", "reduction_factor"},
    "hyperband": {"name", "min_resource", "reduction_factor"},
    "none": {"name"},
}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
DATASET_KEYS = {
    "image_folder": {"type", "path", "validation", "test", "image_size", "grayscale"},
    "npz": {"type", "path", "validation", "test", "features", "labels", "task", "classes", "standardize"},
    "csv": {"type", "path", "validation", "test", "features", "labels", "task", "classes", "standardize"},
}
CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*(\S+)\s*$")


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


@dataclass(frozen=True)
class ObjectiveSpec:
    """One thing a study optimises: a metric and its direction."""

    metric: str
    direction: str


@dataclass(frozen=True)
class ConstraintSpec:
    """``metric <= bound`` or ``metric >= bound``; Optuna treats a violation <= 0 as feasible."""

    metric: str
    op: str  # "<=" | ">="
    bound: float

    def violation(self, value: float) -> float:
        """How far ``value`` is beyond the bound (<= 0: satisfied), as Optuna's constraints want it."""
        return value - self.bound if self.op == "<=" else self.bound - value

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {format_number(self.bound)}"


@dataclass(frozen=True)
class SamplerSpec:
    name: str = "tpe"
    n_startup_trials: int = 10
    multivariate: bool = False
    population_size: int = 50


@dataclass(frozen=True)
class PrunerSpec:
    name: str = "median"
    n_startup_trials: int = 5
    n_warmup_steps: int = 1
    min_resource: int = 1
    reduction_factor: int = 3


@dataclass(frozen=True)
class FinalSpec:
    """The exported model's training budget, when it differs from a trial's (``final:`` in the spec).

    Search cheaply (few epochs, a training subset), then train the chosen configuration once at
    full fidelity: ``max_epochs`` None keeps the trials' epochs; ``train_subset`` None keeps their
    subset, ``"all"`` uses the whole training split, a number that many examples.
    """

    max_epochs: int | None = None
    train_subset: int | str | None = None

    RULE = "must be 'all' or a count >= 1"  # for train_subset, here and on the command line

    @staticmethod
    def valid_subset(value: Any) -> bool:
        """``value`` is ``"all"`` or a whole count >= 1 (what ``final.train_subset`` and ``--train-subset`` take)."""
        return value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in (("max_epochs", self.max_epochs), ("train_subset", self.train_subset)) if v is not None
        }


@dataclass(frozen=True)
class ConfirmSpec:
    """``confirm: {top, seeds}``: after its search, ``autotune run`` re-trains the ``top`` best trials over
    ``seeds`` shared seeds and ranks them by mean (as ``autotune confirm`` does)."""

    top: int = 5
    seeds: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {"top": self.top, "seeds": self.seeds}


#: The stopping rules a spec's ``stop:`` block and ``run --stop`` take.
STOP_RULES = ("noise",)


@dataclass(frozen=True)
class StopSpec:
    """``stop: {rule: noise, patience: P, seeds: N}``: ``autotune run`` ends its search once P finished
    trials in a row have not beaten the best by more than the seed-to-seed spread measured on the best
    trial over N extra seeds (see :mod:`autotune.analysis.stopping`).

    The defaults: a patience of 20, twice TPE's usual 10 random start-up trials, so the rule never
    judges the random start alone, and a fifth of the 100-trial shipped MLP specs (a 20- or 30-trial
    spec needs a smaller one to save anything); 3 seeds, ``confirm``'s default, so a later
    ``autotune confirm`` reuses those runs, and the fewest that give the spread two degrees of freedom.
    """

    rule: str = "noise"
    patience: int = 20
    seeds: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "patience": self.patience, "seeds": self.seeds}


def _named(ctx: Checker, raw: Any, key: str, keys: dict[str, set[str]], default: str) -> tuple[dict, Checker, str]:
    """A ``{name: ..., ...}`` block (sampler, pruner): its mapping, a checker for its keys, and its name,
    with only that name's keys allowed."""
    raw = ctx.mapping(raw, key, set().union(*keys.values()))
    sub = Checker(ctx.source, f"{key}.")
    name = sub.choice(raw, "name", tuple(keys), default)
    ctx.mapping(raw, key, keys[name])
    return raw, sub, name


def parse_sampler(ctx: Checker, raw: Any) -> SamplerSpec:
    raw, sub, name = _named(ctx, raw, "sampler", SAMPLER_KEYS, "tpe")
    return SamplerSpec(
        name=name,
        n_startup_trials=sub.integer(raw, "n_startup_trials", 10, minimum=0),
        multivariate=sub.boolean(raw, "multivariate", False),
        population_size=sub.integer(raw, "population_size", 50, minimum=2),
    )


def parse_objectives(ctx: Checker, data: dict, *, dataset: str, classification: bool) -> tuple[ObjectiveSpec, ...]:
    """``metric``/``direction`` (one objective) or ``objectives`` (a list; the first is a validation metric)."""

    def check(key: str, metric: str) -> None:
        if metric == "val_accuracy" and not classification:
            raise ctx.error(
                key, f"'val_accuracy' needs a classification dataset; '{dataset}' is regression (use 'val_loss')"
            )

    def direction_of(sub: Checker, raw: dict, metric: str) -> str:
        natural = ALL_METRICS[metric]
        direction = sub.choice(raw, "direction", ("maximize", "minimize"), natural)
        if metric in METRICS and direction != natural:
            raise sub.error("direction", f"'{metric}' must be {natural}d, got {direction!r}")
        return direction

    if "objectives" not in data:
        metric = ctx.choice(data, "metric", tuple(METRICS), "val_accuracy" if classification else "val_loss")
        check("metric", metric)
        return (ObjectiveSpec(metric, direction_of(ctx, data, metric)),)
    clash = [k for k in ("metric", "direction") if k in data]
    if clash:
        raise ctx.error(clash[0], "give either 'metric'/'direction' (one objective) or 'objectives', not both")
    raw = data["objectives"]
    if not isinstance(raw, list) or not raw:
        raise ctx.error(
            "objectives",
            "must be a non-empty list of metrics, e.g. [val_accuracy, train_seconds] "
            f"or [{{metric: val_accuracy, direction: maximize}}, ...]; got {show_value(raw)}",
        )
    out: list[ObjectiveSpec] = []
    for i, item in enumerate(raw):
        key = f"objectives[{i}]"
        sub = Checker(ctx.source, f"{key}.")
        item = {"metric": item} if isinstance(item, str) else ctx.mapping(item, key, {"metric", "direction"})
        if "metric" not in item:
            raise sub.error("metric", "is required")
        allowed = tuple(METRICS) if i == 0 else tuple(ALL_METRICS)
        if i == 0 and item["metric"] in COST_METRICS:
            raise sub.error(
                "metric",
                f"the first objective is the validation metric that trials report per "
                f"epoch ({', '.join(METRICS)}); put {item['metric']!r} after it",
            )
        metric = sub.choice(item, "metric", allowed, None)
        check(f"{key}.metric", metric)
        if metric in (o.metric for o in out):
            raise sub.error("metric", f"{metric!r} is listed twice")
        out.append(ObjectiveSpec(metric, direction_of(sub, item, metric)))
    return tuple(out)


def parse_constraints(ctx: Checker, raw: Any, *, classification: bool) -> tuple[ConstraintSpec, ...]:
    """``["params <= 200000", "latency_ms <= 1.0"]``: each a metric, <= or >=, and a finite number."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.error("constraints", f"must be a list like ['params <= 200000'], got {show_value(raw)}")
    out: list[ConstraintSpec] = []
    for i, item in enumerate(raw):
        key = f"constraints[{i}]"
        match = CONSTRAINT_RE.match(item) if isinstance(item, str) else None
        if match is None:
            raise ctx.error(key, f"must read 'METRIC <= NUMBER' or 'METRIC >= NUMBER', got {show_value(item)}")
        metric, op, text = match.groups()
        if metric not in ALL_METRICS:
            raise ctx.error(key, f"unknown metric {metric!r}; allowed: {', '.join(ALL_METRICS)}")
        if metric == "val_accuracy" and not classification:
            raise ctx.error(key, "'val_accuracy' needs a classification dataset")
        try:
            bound = float(text)
        except ValueError:
            bound = math.nan
        if not math.isfinite(bound):
            raise ctx.error(key, f"the bound must be a finite number, got {text!r}")
        out.append(ConstraintSpec(metric, op, bound))
    return tuple(out)


def parse_pruner(ctx: Checker, raw: Any) -> PrunerSpec:
    raw, sub, name = _named(ctx, raw, "pruner", PRUNER_KEYS, "median")
    return PrunerSpec(
        name=name,
        n_startup_trials=sub.integer(raw, "n_startup_trials", 5, minimum=0),
        n_warmup_steps=sub.integer(raw, "n_warmup_steps", 1, minimum=0),
        min_resource=sub.integer(raw, "min_resource", 1, minimum=1),
        reduction_factor=sub.integer(raw, "reduction_factor", 3, minimum=2),
    )


def parse_final(ctx: Checker, raw: Any) -> FinalSpec:
    raw = ctx.mapping(raw, "final", {"max_epochs", "train_subset"})
    sub = Checker(ctx.source, "final.")
    epochs = None if raw.get("max_epochs") is None else sub.integer(raw, "max_epochs", None, minimum=1, maximum=10000)
    subset = raw.get("train_subset")
    if subset is not None and not FinalSpec.valid_subset(subset):
        raise sub.error("train_subset", f"{FinalSpec.RULE}, got {show_value(subset)}")
    return FinalSpec(max_epochs=epochs, train_subset=subset)


def parse_confirm(ctx: Checker, raw: Any, *, objectives: tuple[ObjectiveSpec, ...]) -> ConfirmSpec | None:
    """``confirm: {top: 5, seeds: 3}`` (both optional); absent or null: no confirmation after the search."""
    if raw is None:
        return None
    raw = ctx.mapping(raw, "confirm", {"top", "seeds"})
    if len(objectives) > 1:
        raise ctx.error(
            "confirm",
            f"ranks trials by one objective, and this spec has {len(objectives)} "
            f"({', '.join(o.metric for o in objectives)}); remove 'confirm'",
        )
    sub = Checker(ctx.source, "confirm.")
    seeds = raw.get("seeds", 3)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds < 2:
        raise sub.error("seeds", f"must be >= 2, got {seeds}: no spread can be measured with one seed")
    return ConfirmSpec(top=sub.integer(raw, "top", 5, minimum=1), seeds=sub.integer(raw, "seeds", 3, minimum=2))


def parse_stop(ctx: Checker, raw: Any, *, objectives: tuple[ObjectiveSpec, ...]) -> StopSpec | None:
    """``stop: {rule: noise, patience: 20, seeds: 3}`` (every key optional); absent or null: no early stop."""
    if raw is None:
        return None
    raw = ctx.mapping(raw, "stop", {"rule", "patience", "seeds"})
    if len(objectives) > 1:
        raise ctx.error(
            "stop",
            f"the noise rule compares trials by one objective, and this spec has "
            f"{len(objectives)} ({', '.join(o.metric for o in objectives)}); remove 'stop'",
        )
    sub = Checker(ctx.source, "stop.")
    seeds = raw.get("seeds", StopSpec.seeds)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds < 2:
        raise sub.error("seeds", f"must be >= 2, got {seeds}: no spread can be measured with one seed")
    return StopSpec(
        rule=sub.choice(raw, "rule", STOP_RULES, "noise"),
        patience=sub.integer(raw, "patience", StopSpec.patience, minimum=1),
        seeds=sub.integer(raw, "seeds", StopSpec.seeds, minimum=2),
    )


def parse_dataset(ctx: Checker, raw: dict, base: Path) -> DataSource:
    """``dataset: {type: image_folder|npz|csv, path: ..., ...}``: a user's data (see :class:`DataSource`)."""
    sub = Checker(ctx.source, "dataset.")
    kind = sub.choice(raw, "type", SOURCE_KINDS, None)
    ctx.mapping(raw, "dataset", DATASET_KEYS[kind])
    if "path" not in raw:
        raise sub.error("path", f"is required: the {'folder' if kind == 'image_folder' else 'file'} holding the data")

    def path(key: str) -> str | None:
        value = raw.get(key)
        if value is None and key != "path":
            return None
        if not isinstance(value, str) or not value.strip():
            raise sub.error(key, f"must be a path, got {show_value(value)}")
        return str((base / Path(value).expanduser()).resolve())

    size = raw.get("image_size")
    if size is not None:
        sizes = [size, size] if isinstance(size, int) and not isinstance(size, bool) else size
        if not (
            isinstance(sizes, list)
            and len(sizes) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in sizes)
        ):
            raise sub.error("image_size", f"must be an integer in [1, 4096] or [height, width], got {show_value(size)}")
        size = (sizes[0], sizes[1])
    task = (
        "classification"
        if kind == "image_folder"
        else sub.choice(raw, "task", ("classification", "regression"), "classification")
    )
    features = raw.get("features")
    if features is not None:
        ok = (
            (isinstance(features, str) and features)
            if kind == "npz"
            else (isinstance(features, list) and features and all(isinstance(f, str) and f for f in features))
        )
        if not ok:
            want = "an array name" if kind == "npz" else "a non-empty list of column names"
            raise sub.error("features", f"must be {want}, got {show_value(features)}")
        features = tuple(features) if isinstance(features, list) else features
    labels = raw.get("labels")
    if labels is not None and not (isinstance(labels, str) and labels):
        raise sub.error(
            "labels", f"must be {'an array' if kind == 'npz' else 'a column'} name, got {show_value(labels)}"
        )
    classes = raw.get("classes")
    if classes is not None:
        if task != "classification":
            raise sub.error("classes", "applies to classification only")
        classes = sub.integer(raw, "classes", None, minimum=2)
    return DataSource(
        kind=kind,
        path=path("path"),
        task=task,
        validation=path("validation"),
        test=path("test"),
        image_size=size,
        grayscale=sub.boolean(raw, "grayscale", False),
        features=features,
        labels=labels,
        classes=classes,
        standardize=sub.boolean(raw, "standardize", True),
    )


def parse_model(ctx: Checker, raw: Any, base: Path) -> str:
    """``mlp``, ``cnn``, ``path/to/file.py:function`` (made absolute) or ``package.module:function``."""
    usage = (
        f"must be one of {', '.join(MODELS)}, or a model builder 'path/to/models.py:build' or "
        f"'package.module:build'; got {show_value(raw)}"
    )
    if raw in MODELS:
        return raw
    if not isinstance(raw, str) or ":" not in raw:
        raise ctx.error("model", usage)
    target, _, func = raw.rpartition(":")
    if not IDENT_RE.match(func):
        raise ctx.error("model", f"'{func}' is not a function name; {usage}")
    if target.endswith(".py"):
        path = (base / Path(target).expanduser()).resolve()
        if not path.is_file():
            raise ctx.error("model", f"model file '{path}' does not exist")
        return f"{path}:{func}"
    if not MODULE_RE.match(target):
        raise ctx.error("model", f"'{target}' is neither a .py file nor a module name; {usage}")
    return raw


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
