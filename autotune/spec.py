"""Study specs: YAML files parsed into frozen dataclasses, validated key by key.

A spec says what to search (``space``), what to hold constant (``fixed``), on which data
(``dataset``), with which model family (``model``), for how long (``max_epochs``), what to
optimise (``metric``/``direction``), and how (``sampler``/``pruner``/``seed``). Unknown keys
are rejected and every error names the file, the key, the bad value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from autotune._paths import STUDIES_DIR
from autotune.data import DATASETS, SOURCE_KINDS, DataSource
from autotune.errors import SpecError

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "selu", "silu", "tanh", "sigmoid")
INITS = (
    "default",
    "zeros",
    "normal",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "sparse",
)
OPTIMIZERS = ("sgd", "sgd_momentum", "adam", "adamw")
LR_SCHEDULES = ("none", "step", "cosine")
MODELS = ("mlp", "cnn")
#: ``model:`` is one of MODELS or a user's builder, ``path/to/file.py:function`` or ``package.module:function``;
#: the builder's models form the "custom" family.
FAMILIES = (*MODELS, "custom")
#: Parameters the trainer itself uses: every family has them, a custom builder never sees them.
TRAINING_PARAMS = ("lr", "batch_size", "init", "optimizer", "weight_decay", "lr_schedule", "augment")
#: What a study can optimise (``metric`` and the first objective: validation metrics only) and
#: constrain or trade off (``objectives`` after the first, ``constraints``: all), with the natural
#: direction of each.
METRICS = {"val_accuracy": "maximize", "val_loss": "minimize"}
COST_METRICS = {
    "train_seconds": "minimize",  # wall time of the trial's training (evaluation included)
    "params": "minimize",  # trainable parameters of the model
    "latency_ms": "minimize",  # inference time per sample: a fixed batch on the trial's device, warm-up excluded
}
ALL_METRICS = {**METRICS, **COST_METRICS}
SAMPLERS = ("tpe", "random", "nsga2")
PRUNERS = ("median", "successive_halving", "hyperband", "none")


@dataclass(frozen=True)
class ParamInfo:
    """What autotune knows about one tunable parameter."""

    name: str
    kind: str  # "float" | "int" | "bool" | "choice" | "any" (a custom model's parameter: any scalar or list)
    default: Any
    help: str
    families: tuple[str, ...] = MODELS
    allowed: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    per_layer: bool = False
    image_only: bool = False

    def describe_bounds(self) -> str:
        if self.kind == "any":
            return "a number, a string, true/false, or a list of those"
        if self.kind in ("choice", "bool"):
            return "one of " + ", ".join(str(a) for a in self.allowed)
        low = "" if self.minimum is None else f"{'>' if self.exclusive_minimum else '>='} {_fmt(self.minimum)}"
        high = "" if self.maximum is None else f"{'<' if self.exclusive_maximum else '<='} {_fmt(self.maximum)}"
        kind = "an integer" if self.kind == "int" else "a number"
        return f"{kind} " + " and ".join(p for p in (low, high) if p) if low or high else kind


#: Every parameter a spec may search or fix, with its default (the "spec defaults" baseline:
#: a plain tutorial set-up, SGD at 0.01 with two hidden layers of 128 units).
PARAMETERS: Mapping[str, ParamInfo] = MappingProxyType(
    {
        p.name: p
        for p in (
            ParamInfo("lr", "float", 0.01, "learning rate", minimum=0.0, exclusive_minimum=True, maximum=10.0, families=FAMILIES),
            ParamInfo("batch_size", "int", 64, "mini-batch size", minimum=1, maximum=65536, families=FAMILIES),
            ParamInfo("n_layers", "int", 2, "hidden layers (MLP) or conv blocks (CNN)", minimum=1, maximum=16),
            ParamInfo("units", "int", 128, "units of each hidden layer (per layer, follows n_layers)",
                      families=("mlp",), minimum=1, maximum=8192, per_layer=True),
            ParamInfo("channels", "int", 32, "output channels of each conv block (per block, follows n_layers)",
                      families=("cnn",), minimum=1, maximum=1024, per_layer=True),
            ParamInfo("kernel_size", "int", 5, "convolution kernel size (odd)", families=("cnn",),
                      minimum=1, maximum=15),
            ParamInfo("fc_units", "int", 128, "units of the CNN's fully-connected layer", families=("cnn",),
                      minimum=1, maximum=8192),
            ParamInfo("activation", "choice", "relu", "activation function", allowed=ACTIVATIONS),
            ParamInfo("init", "choice", "default", "weight initialisation", allowed=INITS, families=FAMILIES),
            ParamInfo("optimizer", "choice", "sgd", "optimiser (sgd_momentum uses momentum 0.9)",
                      allowed=OPTIMIZERS, families=FAMILIES),
            ParamInfo("weight_decay", "float", 0.0, "L2 weight decay", minimum=0.0, maximum=1.0, families=FAMILIES),
            ParamInfo("dropout", "float", 0.0, "dropout probability", minimum=0.0, maximum=1.0,
                      exclusive_maximum=True),
            ParamInfo("batch_norm", "bool", False, "batch normalisation after each hidden layer",
                      allowed=(True, False)),
            ParamInfo("lr_schedule", "choice", "none", "learning-rate schedule over the epochs",
                      allowed=LR_SCHEDULES, families=FAMILIES),
            ParamInfo("augment", "bool", False, "random shifts (±2 px) and rotations (±10°) of training images",
                      allowed=(True, False), image_only=True, families=FAMILIES),
        )
    }
)

_TOP_KEYS = {
    "name", "description", "dataset", "model", "metric", "direction", "objectives", "constraints", "max_epochs",
    "trials", "validation_size", "train_subset", "seed", "sampler", "pruner", "fixed", "space", "final",
}
_REQUIRED_KEYS = ("dataset", "model", "space")
_PARAM_KEYS = {"low", "high", "log", "step", "choices"}
_SAMPLER_KEYS = {"tpe": {"name", "n_startup_trials", "multivariate"}, "random": {"name"},
                 "nsga2": {"name", "population_size"}}
_PRUNER_KEYS = {
    "median": {"name", "n_startup_trials", "n_warmup_steps"},
    "successive_halving": {"name", "min_resource", "reduction_factor"},
    "hyperband": {"name", "min_resource", "reduction_factor"},
    "none": {"name"},
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_DATASET_KEYS = {
    "image_folder": {"type", "path", "validation", "test", "image_size", "grayscale"},
    "npz": {"type", "path", "validation", "test", "features", "labels", "task", "classes", "standardize"},
    "csv": {"type", "path", "validation", "test", "features", "labels", "task", "classes", "standardize"},
}
_CONSTRAINT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*(\S+)\s*$")


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
        return f"{self.metric} {self.op} {_fmt(self.bound)}"


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
        return {k: v for k, v in (("max_epochs", self.max_epochs), ("train_subset", self.train_subset)) if v is not None}


@dataclass(frozen=True)
class StudySpec:
    """A validated study spec. Build it with :func:`load_spec` or :func:`parse_spec`."""

    name: str
    dataset: str | DataSource  # a built-in name (see autotune.data.DATASETS) or a user's dataset
    model: str  # "mlp", "cnn", or a custom builder reference (absolute file path or module, ":function")
    space: tuple[ParamSpec, ...]
    fixed: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    description: str = ""
    metric: str = "val_accuracy"
    direction: str = "maximize"
    max_epochs: int = 10
    trials: int = 20
    validation_size: float = 0.1
    train_subset: int | None = None
    seed: int = 0
    sampler: SamplerSpec = SamplerSpec()
    pruner: PrunerSpec = PrunerSpec()
    source: str = "<spec>"
    objectives: tuple[ObjectiveSpec, ...] = ()  # empty: the one objective (metric, direction)
    constraints: tuple[ConstraintSpec, ...] = ()
    user_params: tuple[ParamInfo, ...] = ()  # a custom model's own parameters, from 'space' and 'fixed'
    final: FinalSpec = FinalSpec()

    def __post_init__(self) -> None:
        if not self.objectives:
            object.__setattr__(self, "objectives", (ObjectiveSpec(self.metric, self.direction),))

    @property
    def family(self) -> str:
        """"mlp", "cnn" or "custom" (a user's model builder)."""
        return self.model if self.model in MODELS else "custom"

    @property
    def per_layer(self) -> str | None:
        """The per-layer width parameter of a built-in family (``units``/``channels``); None for custom models."""
        return {"mlp": "units", "cnn": "channels"}.get(self.model)

    @property
    def parameters(self) -> dict[str, ParamInfo]:
        """Every parameter a configuration of this spec holds, in order: the family's, then the user's."""
        known = {name: info for name, info in PARAMETERS.items() if self.family in info.families}
        return {**known, **{p.name: p for p in self.user_params}}

    @property
    def dataset_name(self) -> str:
        return self.dataset if isinstance(self.dataset, str) else self.dataset.name

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def metrics(self) -> tuple[str, ...]:
        """The objectives' metric names, in order (the first is ``metric``)."""
        return tuple(o.metric for o in self.objectives)

    @property
    def directions(self) -> tuple[str, ...]:
        return tuple(o.direction for o in self.objectives)

    def needs(self, metric: str) -> bool:
        """Whether trials must measure ``metric`` (an objective or a constraint uses it)."""
        return metric in self.metrics or any(c.metric == metric for c in self.constraints)

    def param(self, name: str) -> ParamSpec | None:
        """The searched parameter called ``name``, or None if it is not searched."""
        for p in self.space:
            if p.name == name:
                return p
        return None

    def to_dict(self) -> dict[str, Any]:
        """A plain, YAML/JSON-ready mapping that :func:`parse_spec` turns back into this spec."""
        sampler: dict[str, Any] = {"name": self.sampler.name}
        for key in sorted(_SAMPLER_KEYS[self.sampler.name] - {"name"}):
            sampler[key] = getattr(self.sampler, key)
        pruner: dict[str, Any] = {"name": self.pruner.name}
        for key in sorted(_PRUNER_KEYS[self.pruner.name] - {"name"}):
            pruner[key] = getattr(self.pruner, key)
        # The keys of a single-objective, unconstrained spec stay what they always were, so its
        # fingerprint (and every study stored from it) is unchanged.
        goals: dict[str, Any] = {"metric": self.metric, "direction": self.direction}
        if self.multi_objective:
            goals = {"objectives": [{"metric": o.metric, "direction": o.direction} for o in self.objectives]}
        if self.constraints:
            goals["constraints"] = [str(c) for c in self.constraints]
        return {
            "name": self.name,
            "description": self.description,
            "dataset": self.dataset if isinstance(self.dataset, str) else self.dataset.to_dict(),
            "model": self.model,
            **goals,
            "max_epochs": self.max_epochs,
            "trials": self.trials,
            "validation_size": self.validation_size,
            "train_subset": self.train_subset,
            "seed": self.seed,
            "sampler": sampler,
            "pruner": pruner,
            "fixed": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.fixed.items()},
            "space": {p.name: p.to_dict() for p in self.space},
            **({"final": final} if (final := self.final.to_dict()) else {}),
        }

    def for_final(self, *, max_epochs: int | None = None, train_subset: int | str | None = None) -> StudySpec:
        """This spec with the exported model's budget as its trial budget: the arguments, else ``final``,
        else the trials' own (``train_subset="all"``: the whole training split)."""
        epochs = max_epochs or self.final.max_epochs or self.max_epochs
        subset = train_subset if train_subset is not None else self.final.train_subset
        subset = self.train_subset if subset is None else None if subset == "all" else subset
        return replace(self, max_epochs=epochs, train_subset=subset)

    def fingerprint(self) -> str:
        """A hash of everything that changes what a trial means (not the name, text, trial count or
        the exported model's budget)."""
        data = self.to_dict()
        for key in ("name", "description", "trials", "final"):
            data.pop(key, None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Loading


def shipped_specs() -> dict[str, Path]:
    """The study specs that ship with autotune, by name."""
    if not STUDIES_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(STUDIES_DIR.glob("*.yaml"))}


def load_spec(name_or_path: str | Path) -> StudySpec:
    """Load a shipped spec by name (``mlp-mnist``) or a user's spec from a YAML file path."""
    name_or_path = str(name_or_path)
    path = Path(name_or_path).expanduser()
    shipped = shipped_specs()
    if name_or_path in shipped:
        path = shipped[name_or_path]
    elif not (path.suffix in (".yaml", ".yml") or path.is_file()):
        names = ", ".join(shipped) or "(none found)"
        raise SpecError(f"unknown study '{name_or_path}': not a shipped spec ({names}) nor a YAML file")
    if not path.is_file():
        raise SpecError(f"study spec file '{name_or_path}' does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read study spec '{path}': {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}: invalid YAML{where}: {problem}") from None
    return parse_spec(data, source=str(path), default_name=path.stem, base_dir=path.resolve().parent)


def parse_spec(data: Any, *, source: str = "<spec>", default_name: str = "study",
               base_dir: str | Path | None = None) -> StudySpec:
    """Validate a spec mapping (as read from YAML) and build a :class:`StudySpec`.

    Relative paths in it (a user dataset, a model file) are resolved against ``base_dir``
    (the spec file's folder; default: the current directory) and stored absolute.
    """
    ctx = _Ctx(source)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if not isinstance(data, dict):
        raise ctx.error("", f"a study spec must be a mapping of keys to values, got {_type_name(data)}")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise ctx.error(unknown[0], f"unknown key; allowed keys: {', '.join(sorted(_TOP_KEYS))}")
    for key in _REQUIRED_KEYS:
        if key not in data:
            raise ctx.error(key, "is required")

    name = ctx.string(data, "name", default_name)
    if not _NAME_RE.match(name):
        raise ctx.error("name", f"must be letters, digits, '.', '_' or '-' (at most 100), got {name!r}")
    dataset: str | DataSource
    if isinstance(data["dataset"], dict):
        dataset = _parse_dataset(ctx, data["dataset"], base)
        is_image, task, image_size = dataset.is_image, dataset.task, dataset.image_size
    else:
        dataset = data["dataset"]
        if not isinstance(dataset, str) or dataset not in DATASETS:
            raise ctx.error("dataset", f"must be one of {', '.join(DATASETS)}, or your own data as a mapping "
                            f"{{type: {'|'.join(SOURCE_KINDS)}, path: ...}}; got {_show(dataset)}")
        info = DATASETS[dataset]
        is_image, task, image_size = info.is_image, info.task, info.shape[1:] if info.is_image else None
    dataset_name = dataset if isinstance(dataset, str) else dataset.name
    model = _parse_model(ctx, data["model"], base)
    if model == "cnn" and is_image is False:
        raise ctx.error("model", f"'cnn' needs an image dataset; '{dataset_name}' is not one (use 'mlp')")
    classification = task == "classification"
    objectives = _parse_objectives(ctx, data, dataset=dataset_name, classification=classification)
    constraints = _parse_constraints(ctx, data.get("constraints"), classification=classification)
    pruner = _parse_pruner(ctx, data.get("pruner", {} if len(objectives) == 1 else {"name": "none"}))
    if len(objectives) > 1 and pruner.name != "none":
        raise ctx.error("pruner.name", f"Optuna's pruners work on one objective only, got {pruner.name!r}; a "
                        "multi-objective study trains every trial to the end (use none, or leave 'pruner' out)")

    family = model if model in MODELS else "custom"
    maybe_image = is_image is not False  # an .npz file's shape is only known once it is loaded
    fixed = _parse_fixed(ctx, data.get("fixed", {}), model=family, is_image=maybe_image)
    space = _parse_space(ctx, data.get("space"), model=family, is_image=maybe_image, fixed=fixed)
    if family != "custom":
        _check_layers(ctx, space, fixed, model=model, image_size=image_size)

    validation_size = data.get("validation_size", 0.1)
    if isinstance(validation_size, bool) or not isinstance(validation_size, (int, float)) or not (
        (isinstance(validation_size, int) and validation_size >= 1)
        or (isinstance(validation_size, float) and 0.0 < validation_size < 1.0)
    ):
        raise ctx.error("validation_size", f"must be a fraction in (0, 1) or a count >= 1, got {validation_size!r}")
    train_subset = data.get("train_subset")
    if train_subset is not None:
        train_subset = ctx.integer(data, "train_subset", None, minimum=1)

    return StudySpec(
        name=name,
        description=ctx.string(data, "description", ""),
        dataset=dataset,
        model=model,
        metric=objectives[0].metric,
        direction=objectives[0].direction,
        objectives=objectives,
        constraints=constraints,
        max_epochs=ctx.integer(data, "max_epochs", 10, minimum=1, maximum=10000),
        trials=ctx.integer(data, "trials", 20, minimum=1),
        validation_size=validation_size,
        train_subset=train_subset,
        seed=ctx.integer(data, "seed", 0, minimum=0, maximum=2**31 - 1),
        sampler=_parse_sampler(ctx, data.get("sampler", {})),
        pruner=pruner,
        fixed=MappingProxyType(fixed),
        space=space,
        source=source,
        user_params=_user_params(space, fixed) if family == "custom" else (),
        final=_parse_final(ctx, data.get("final", {})),
    )


# --------------------------------------------------------------------------------------
# Validation helpers


class _Ctx:
    """Builds error messages that point at the file and key."""

    def __init__(self, source: str, prefix: str = "") -> None:
        self.source = source
        self.prefix = prefix

    def error(self, key: str, problem: str) -> SpecError:
        key = key if key.isprintable() else repr(key)  # a key with a newline must not break the one-line error
        where = f"{self.source}: {self.prefix}{key}" if key else self.source
        return SpecError(f"{where}: {problem}")

    def string(self, data: dict, key: str, default: str) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {_show(value)}")
        return value

    def choice(self, data: dict, key: str, allowed: tuple[str, ...], default: str | None) -> str:
        value = data.get(key, default)
        if value not in allowed or not isinstance(value, str):
            raise self.error(key, f"must be one of {', '.join(allowed)}; got {_show(value)}")
        return value

    def integer(self, data: dict, key: str, default: int | None, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {_show(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be <= {maximum}, got {value}")
        return value

    def boolean(self, data: dict, key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {_show(value)}")
        return value

    def mapping(self, value: Any, key: str, allowed: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping, got {_show(value)}")
        unknown = sorted(set(map(str, value)) - allowed)
        if unknown:
            raise self.error(f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
        return value


def _parse_sampler(ctx: _Ctx, raw: Any) -> SamplerSpec:
    raw = ctx.mapping(raw, "sampler", set().union(*_SAMPLER_KEYS.values()))
    sub = _Ctx(ctx.source, "sampler.")
    name = sub.choice(raw, "name", SAMPLERS, "tpe")
    ctx.mapping(raw, "sampler", _SAMPLER_KEYS[name])
    return SamplerSpec(
        name=name,
        n_startup_trials=sub.integer(raw, "n_startup_trials", 10, minimum=0),
        multivariate=sub.boolean(raw, "multivariate", False),
        population_size=sub.integer(raw, "population_size", 50, minimum=2),
    )


def _parse_objectives(ctx: _Ctx, data: dict, *, dataset: str, classification: bool) -> tuple[ObjectiveSpec, ...]:
    """``metric``/``direction`` (one objective) or ``objectives`` (a list; the first is a validation metric)."""
    def check(key: str, metric: str) -> None:
        if metric == "val_accuracy" and not classification:
            raise ctx.error(key, f"'val_accuracy' needs a classification dataset; '{dataset}' is regression "
                            "(use 'val_loss')")

    def direction_of(sub: _Ctx, raw: dict, metric: str) -> str:
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
        raise ctx.error("objectives", "must be a non-empty list of metrics, e.g. [val_accuracy, train_seconds] "
                        f"or [{{metric: val_accuracy, direction: maximize}}, ...]; got {_show(raw)}")
    out: list[ObjectiveSpec] = []
    for i, item in enumerate(raw):
        key = f"objectives[{i}]"
        sub = _Ctx(ctx.source, f"{key}.")
        item = {"metric": item} if isinstance(item, str) else ctx.mapping(item, key, {"metric", "direction"})
        if "metric" not in item:
            raise sub.error("metric", "is required")
        allowed = tuple(METRICS) if i == 0 else tuple(ALL_METRICS)
        if i == 0 and item["metric"] in COST_METRICS:
            raise sub.error("metric", f"the first objective is the validation metric that trials report per "
                            f"epoch ({', '.join(METRICS)}); put {item['metric']!r} after it")
        metric = sub.choice(item, "metric", allowed, None)
        check(f"{key}.metric", metric)
        if metric in (o.metric for o in out):
            raise sub.error("metric", f"{metric!r} is listed twice")
        out.append(ObjectiveSpec(metric, direction_of(sub, item, metric)))
    return tuple(out)


def _parse_constraints(ctx: _Ctx, raw: Any, *, classification: bool) -> tuple[ConstraintSpec, ...]:
    """``["params <= 200000", "latency_ms <= 1.0"]``: each a metric, <= or >=, and a finite number."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.error("constraints", f"must be a list like ['params <= 200000'], got {_show(raw)}")
    out: list[ConstraintSpec] = []
    for i, item in enumerate(raw):
        key = f"constraints[{i}]"
        match = _CONSTRAINT_RE.match(item) if isinstance(item, str) else None
        if match is None:
            raise ctx.error(key, f"must read 'METRIC <= NUMBER' or 'METRIC >= NUMBER', got {_show(item)}")
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


def _parse_pruner(ctx: _Ctx, raw: Any) -> PrunerSpec:
    raw = ctx.mapping(raw, "pruner", set().union(*_PRUNER_KEYS.values()))
    sub = _Ctx(ctx.source, "pruner.")
    name = sub.choice(raw, "name", PRUNERS, "median")
    ctx.mapping(raw, "pruner", _PRUNER_KEYS[name])
    return PrunerSpec(
        name=name,
        n_startup_trials=sub.integer(raw, "n_startup_trials", 5, minimum=0),
        n_warmup_steps=sub.integer(raw, "n_warmup_steps", 1, minimum=0),
        min_resource=sub.integer(raw, "min_resource", 1, minimum=1),
        reduction_factor=sub.integer(raw, "reduction_factor", 3, minimum=2),
    )


def _parse_final(ctx: _Ctx, raw: Any) -> FinalSpec:
    raw = ctx.mapping(raw, "final", {"max_epochs", "train_subset"})
    sub = _Ctx(ctx.source, "final.")
    epochs = None if raw.get("max_epochs") is None else sub.integer(raw, "max_epochs", None, minimum=1, maximum=10000)
    subset = raw.get("train_subset")
    if subset is not None and not FinalSpec.valid_subset(subset):
        raise sub.error("train_subset", f"{FinalSpec.RULE}, got {_show(subset)}")
    return FinalSpec(max_epochs=epochs, train_subset=subset)


def _parse_dataset(ctx: _Ctx, raw: dict, base: Path) -> DataSource:
    """``dataset: {type: image_folder|npz|csv, path: ..., ...}``: a user's data (see :class:`DataSource`)."""
    sub = _Ctx(ctx.source, "dataset.")
    kind = sub.choice(raw, "type", SOURCE_KINDS, None)
    ctx.mapping(raw, "dataset", _DATASET_KEYS[kind])
    if "path" not in raw:
        raise sub.error("path", f"is required: the {'folder' if kind == 'image_folder' else 'file'} holding the data")

    def path(key: str) -> str | None:
        value = raw.get(key)
        if value is None and key != "path":
            return None
        if not isinstance(value, str) or not value.strip():
            raise sub.error(key, f"must be a path, got {_show(value)}")
        return str((base / Path(value).expanduser()).resolve())

    size = raw.get("image_size")
    if size is not None:
        sizes = [size, size] if isinstance(size, int) and not isinstance(size, bool) else size
        if not (isinstance(sizes, list) and len(sizes) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in sizes)):
            raise sub.error("image_size", f"must be an integer in [1, 4096] or [height, width], got {_show(size)}")
        size = (sizes[0], sizes[1])
    task = "classification" if kind == "image_folder" else sub.choice(
        raw, "task", ("classification", "regression"), "classification")
    features = raw.get("features")
    if features is not None:
        ok = (isinstance(features, str) and features) if kind == "npz" else (
            isinstance(features, list) and features and all(isinstance(f, str) and f for f in features))
        if not ok:
            want = "an array name" if kind == "npz" else "a non-empty list of column names"
            raise sub.error("features", f"must be {want}, got {_show(features)}")
        features = tuple(features) if isinstance(features, list) else features
    labels = raw.get("labels")
    if labels is not None and not (isinstance(labels, str) and labels):
        raise sub.error("labels", f"must be {'an array' if kind == 'npz' else 'a column'} name, got {_show(labels)}")
    classes = raw.get("classes")
    if classes is not None:
        if task != "classification":
            raise sub.error("classes", "applies to classification only")
        classes = sub.integer(raw, "classes", None, minimum=2)
    return DataSource(kind=kind, path=path("path"), task=task, validation=path("validation"), test=path("test"),
                      image_size=size, grayscale=sub.boolean(raw, "grayscale", False), features=features,
                      labels=labels, classes=classes, standardize=sub.boolean(raw, "standardize", True))


def _parse_model(ctx: _Ctx, raw: Any, base: Path) -> str:
    """``mlp``, ``cnn``, ``path/to/file.py:function`` (made absolute) or ``package.module:function``."""
    usage = (f"must be one of {', '.join(MODELS)}, or a model builder 'path/to/models.py:build' or "
             f"'package.module:build'; got {_show(raw)}")
    if raw in MODELS:
        return raw
    if not isinstance(raw, str) or ":" not in raw:
        raise ctx.error("model", usage)
    target, _, func = raw.rpartition(":")
    if not _IDENT_RE.match(func):
        raise ctx.error("model", f"'{func}' is not a function name; {usage}")
    if target.endswith(".py"):
        path = (base / Path(target).expanduser()).resolve()
        if not path.is_file():
            raise ctx.error("model", f"model file '{path}' does not exist")
        return f"{path}:{func}"
    if not _MODULE_RE.match(target):
        raise ctx.error("model", f"'{target}' is neither a .py file nor a module name; {usage}")
    return raw


def _user_params(space: tuple[ParamSpec, ...], fixed: dict[str, Any]) -> tuple[ParamInfo, ...]:
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


def _param_info(ctx: _Ctx, key: str, name: str, *, model: str, is_image: bool) -> ParamInfo:
    if model == "custom" and not (name in PARAMETERS and "custom" in PARAMETERS[name].families):
        if not _IDENT_RE.match(name):
            raise ctx.error(f"{key}.{name}", "a custom model's parameter name must be a Python identifier")
        return ParamInfo(name, "any", None, "a parameter of the custom model", families=("custom",))
    info = PARAMETERS.get(name)
    applicable = [p for p, i in PARAMETERS.items() if model in i.families and (is_image or not i.image_only)]
    if info is None:
        raise ctx.error(f"{key}.{name}", f"unknown parameter; allowed for model '{model}': {', '.join(applicable)}")
    if model not in info.families:
        raise ctx.error(f"{key}.{name}", f"does not apply to model '{model}'; allowed: {', '.join(applicable)}")
    if info.image_only and not is_image:
        raise ctx.error(f"{key}.{name}", "applies only to image datasets")
    return info


def _check_value(ctx: _Ctx, key: str, info: ParamInfo, value: Any) -> Any:
    """Check one concrete value of a parameter and return it in canonical form."""
    bad = ctx.error(key, f"must be {info.describe_bounds()}, got {_show(value)}")
    if info.kind == "any":
        if isinstance(value, list) and value and all(_plain_scalar(v) for v in value):
            return tuple(value)
        if not _plain_scalar(value):
            raise bad
        return value
    if info.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if info.kind == "choice":
        if not isinstance(value, str) or value not in info.allowed:
            raise bad
        return value
    if isinstance(value, str) and info.kind == "float":
        value = _float_from_str(value, bad)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if info.kind == "int" and not isinstance(value, int):
        raise ctx.error(key, f"must be an integer, got {_show(value)}")
    if not math.isfinite(value):
        raise bad
    if info.minimum is not None and (value < info.minimum or (info.exclusive_minimum and value == info.minimum)):
        raise bad
    if info.maximum is not None and (value > info.maximum or (info.exclusive_maximum and value == info.maximum)):
        raise bad
    if info.name == "kernel_size" and value % 2 == 0:
        raise ctx.error(key, f"must be odd, got {value}")
    return float(value) if info.kind == "float" else value


def _parse_fixed(ctx: _Ctx, raw: Any, *, model: str, is_image: bool) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ctx.error("fixed", f"must be a mapping of parameter to value, got {_show(raw)}")
    fixed: dict[str, Any] = {}
    for name, value in raw.items():
        info = _param_info(ctx, "fixed", str(name), model=model, is_image=is_image)
        key = f"fixed.{name}"
        if info.per_layer and isinstance(value, list):
            if not value:
                raise ctx.error(key, "a per-layer list must not be empty")
            fixed[name] = tuple(_check_value(ctx, f"{key}[{i}]", info, v) for i, v in enumerate(value))
        else:
            fixed[name] = _check_value(ctx, key, info, value)
    return fixed


def _parse_space(ctx: _Ctx, raw: Any, *, model: str, is_image: bool, fixed: dict[str, Any]) -> tuple[ParamSpec, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ctx.error("space", f"must be a non-empty mapping of parameter to range or choices, got {_show(raw)}")
    out = []
    for name, body in raw.items():
        name = str(name)
        info = _param_info(ctx, "space", name, model=model, is_image=is_image)
        key = f"space.{name}"
        if name in fixed:
            raise ctx.error(key, "is also under 'fixed'; a parameter is either searched or fixed")
        if isinstance(body, list):
            body = {"choices": body}
        body = ctx.mapping(body, key, _PARAM_KEYS)
        if "choices" in body:
            extra = sorted(set(body) - {"choices"})
            if extra:
                raise ctx.error(f"{key}.{extra[0]}", "cannot be combined with 'choices'")
            choices = body["choices"]
            if not isinstance(choices, list) or not choices:
                raise ctx.error(f"{key}.choices", f"must be a non-empty list, got {_show(choices)}")
            if info.kind == "any" and not all(_plain_scalar(c) for c in choices):
                raise ctx.error(f"{key}.choices", f"must be numbers, strings or true/false, got {_show(choices)}")
            values = tuple(_check_value(ctx, f"{key}.choices[{i}]", info, c) for i, c in enumerate(choices))
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
        low = _check_value(ctx, f"{key}.low", info, body["low"])
        high = _check_value(ctx, f"{key}.high", info, body["high"])
        log = ctx.boolean(body, "log", False) if "log" in body else False
        if low > high:
            raise ctx.error(key, f"low must be <= high, got low={_fmt(low)} > high={_fmt(high)}")
        if log and low <= 0:
            raise ctx.error(f"{key}.low", f"must be > 0 on a log scale, got {_fmt(low)}")
        step = body.get("step")
        if step is not None:
            if log:
                raise ctx.error(f"{key}.step", "cannot be combined with log: true")
            if isinstance(step, str) and info.kind == "float":
                step = _float_from_str(step, ctx.error(f"{key}.step", f"must be a positive number, got {_show(step)}"))
            if isinstance(step, bool) or not isinstance(step, (int, float)) or step <= 0 or (
                info.kind == "int" and not isinstance(step, int)
            ):
                kind = "a positive integer" if info.kind == "int" else "a positive number"
                raise ctx.error(f"{key}.step", f"must be {kind}, got {_show(step)}")
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


def cnn_depth_problem(image: tuple[int, int], depth: int) -> str | None:
    """Why ``depth`` conv blocks (each halving the image) do not fit a height x width image, or None."""
    most = int(math.log2(min(image)))
    if depth <= most:
        return None
    return f"a {image[0]}x{image[1]} image allows at most {most} conv blocks (each halves it), got {depth}"


def _check_layers(ctx: _Ctx, space: tuple[ParamSpec, ...], fixed: dict[str, Any], *, model: str,
                  image_size: tuple[int, int] | None) -> None:
    """Per-layer lists must match the depth; CNN depth must fit the image (each block halves it)."""
    depth_spec = next((p for p in space if p.name == "n_layers"), None)
    per_layer = "units" if model == "mlp" else "channels"
    listed = fixed.get(per_layer)
    if isinstance(listed, tuple):
        if depth_spec is not None:
            raise ctx.error(f"fixed.{per_layer}", "a per-layer list needs a fixed depth, but n_layers is searched; "
                            "give a single value instead")
        depth = fixed.get("n_layers", len(listed))
        if depth != len(listed):
            raise ctx.error(f"fixed.{per_layer}", f"lists {len(listed)} layers but n_layers is {depth}")
    if model == "cnn" and image_size is not None:
        problem = cnn_depth_problem(image_size, deepest(space, fixed, per_layer))
        if problem:
            raise ctx.error("n_layers", problem)


def _plain_scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, str)) or (isinstance(value, float) and math.isfinite(value))


def _float_from_str(value: str, error: SpecError) -> float:
    # YAML 1.1 reads "1e-4" (no dot) as a string; accept it as the number users meant.
    try:
        return float(value)
    except ValueError:
        raise error from None


def _type_name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
