"""Study specs: YAML files parsed into a frozen :class:`StudySpec`, validated key by key.

A spec says what to search (``space``), what to hold constant (``fixed``), on which data
(``dataset``), with which model family (``model``), for how long (``max_epochs``), what to
optimise (``metric``/``direction``), and how (``sampler``/``pruner``/``seed``). Unknown keys
are rejected and every error names the file, the key, the bad value and what is allowed.
The parameter catalogue lives in :mod:`autotune.spec.params`; the parsers of the keys, by what they say, in
:mod:`autotune.spec.dataset_and_model`, :mod:`autotune.spec.objectives`, :mod:`autotune.spec.search_rules`,
:mod:`autotune.spec.after_search` and :mod:`autotune.spec.space_keys`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from autotune.base.paths import studies_dir
from autotune.data.datasets import DATASETS
from autotune.data.sources import SOURCE_KINDS, DataSource
from autotune.errors import SpecError
from autotune.hardware.precision import PRECISIONS
from autotune.hardware.steps import STEPS
from autotune.spec.after_search import ConfirmSpec, FinalSpec, parse_confirm, parse_final
from autotune.spec.dataset_and_model import parse_dataset, parse_model
from autotune.spec.objectives import ConstraintSpec, ObjectiveSpec, parse_constraints, parse_objectives
from autotune.spec.params import (
    ACTIVATIONS,
    INITS,
    LR_SCHEDULES,
    MODELS,
    OPTIMIZERS,
    PARAMETERS,
    PRUNERS,
    SAMPLERS,
    TRAINING_PARAMS,
    Checker,
    ParamInfo,
    cnn_depth_problem,
    show_value,
    type_name,
)
from autotune.spec.search_rules import (
    PRUNER_KEYS,
    SAMPLER_KEYS,
    STOP_RULES,
    PrunerSpec,
    SamplerSpec,
    StopSpec,
    parse_pruner,
    parse_sampler,
    parse_stop,
)
from autotune.spec.space_keys import (
    ParamSpec,
    check_layers,
    deepest,
    parse_fixed,
    parse_space,
    user_params,
    value_range,
)

#: Every key a spec may have at its top level.
TOP_KEYS = set(
    "name description dataset model metric direction objectives constraints max_epochs trials validation_size "
    "train_subset seed sampler pruner fixed space final confirm stop precision step batch_seeds".split()
)
REQUIRED_KEYS = ("dataset", "model", "space")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "LR_SCHEDULES",
    "MODELS",
    "OPTIMIZERS",
    "PARAMETERS",
    "PRUNERS",
    "SAMPLERS",
    "TOP_KEYS",
    "TRAINING_PARAMS",
    "ConfirmSpec",
    "ConstraintSpec",
    "FinalSpec",
    "ObjectiveSpec",
    "ParamInfo",
    "ParamSpec",
    "PrunerSpec",
    "SamplerSpec",
    "STOP_RULES",
    "StopSpec",
    "StudySpec",
    "cnn_depth_problem",
    "deepest",
    "load_spec",
    "parse_spec",
    "shipped_specs",
    "value_range",
]


@dataclass(frozen=True)
class StudySpec:
    """A validated study spec. Build it with :func:`load_spec` or :func:`parse_spec`."""

    name: str
    dataset: str | DataSource  # a built-in name (see autotune.data.datasets.DATASETS) or a user's dataset
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
    confirm: ConfirmSpec | None = None  # None: `autotune run` does not confirm after its search
    stop: StopSpec | None = None  # None: `autotune run` searches until its trial target (unless --stop)
    precision: str = "fp32"  # fp32, bf16 or auto: how trials compute (each records the one it used)
    step: str = "plain"  # plain or fused: how a training step is computed (each trial records its own)
    batch_seeds: bool = False  # train the K seeds of a replay, confirmation, ablation, sweep or export at once

    def __post_init__(self) -> None:
        if not self.objectives:
            object.__setattr__(self, "objectives", (ObjectiveSpec(self.metric, self.direction),))

    @property
    def family(self) -> str:
        """ "mlp", "cnn" or "custom" (a user's model builder)."""
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
        for key in sorted(SAMPLER_KEYS[self.sampler.name] - {"name"}):
            sampler[key] = getattr(self.sampler, key)
        pruner: dict[str, Any] = {"name": self.pruner.name}
        for key in sorted(PRUNER_KEYS[self.pruner.name] - {"name"}):
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
            **({"confirm": self.confirm.to_dict()} if self.confirm is not None else {}),
            **({"stop": self.stop.to_dict()} if self.stop is not None else {}),
            **({"precision": self.precision} if self.precision != "fp32" else {}),
            **({"step": self.step} if self.step != "plain" else {}),
            **({"batch_seeds": True} if self.batch_seeds else {}),
        }

    def for_final(self, *, max_epochs: int | None = None, train_subset: int | str | None = None) -> StudySpec:
        """This spec with the exported model's budget as its trial budget: the arguments, else ``final``,
        else the trials' own (``train_subset="all"``: the whole training split)."""
        epochs = max_epochs or self.final.max_epochs or self.max_epochs
        subset = train_subset if train_subset is not None else self.final.train_subset
        subset = self.train_subset if subset is None else None if subset == "all" else subset
        return replace(self, max_epochs=epochs, train_subset=subset)

    def write_yaml(self, path: str | Path) -> None:
        """Write the spec as a YAML file that :func:`load_spec` reads back: what workers started elsewhere (local
        worker processes, a Slurm job) train with."""
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8")

    def fingerprint(self) -> str:
        """A hash of everything that changes what a trial means (not the name, text, trial count, the
        exported model's budget, the confirmation after the search or when the search stops, nor the
        precision, the step and seed batching: like the device, they are how a run computes, and each run records
        its own)."""
        data = self.to_dict()
        for key in ("name", "description", "trials", "final", "confirm", "stop", "precision", "step", "batch_seeds"):
            data.pop(key, None)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Loading


def shipped_specs() -> dict[str, Path]:
    """The study specs that ship with autotune, by name."""
    folder = studies_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


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


def parse_spec(
    data: Any, *, source: str = "<spec>", default_name: str = "study", base_dir: str | Path | None = None
) -> StudySpec:
    """Validate a spec mapping (as read from YAML) and build a :class:`StudySpec`.

    Relative paths in it (a user dataset, a model file) are resolved against ``base_dir``
    (the spec file's folder; default: the current directory) and stored absolute.
    """
    ctx = Checker(source)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if not isinstance(data, dict):
        raise ctx.error("", f"a study spec must be a mapping of keys to values, got {type_name(data)}")
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise ctx.error(unknown[0], f"unknown key; allowed keys: {', '.join(sorted(TOP_KEYS))}")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise ctx.error(key, "is required")

    name = ctx.string(data, "name", default_name)
    if not NAME_RE.match(name):
        raise ctx.error("name", f"must be letters, digits, '.', '_' or '-' (at most 100), got {name!r}")
    dataset: str | DataSource
    if isinstance(data["dataset"], dict):
        dataset = parse_dataset(ctx, data["dataset"], base)
        is_image, task, image_size = dataset.is_image, dataset.task, dataset.image_size
    else:
        dataset = data["dataset"]
        if not isinstance(dataset, str) or dataset not in DATASETS:
            raise ctx.error(
                "dataset",
                f"must be one of {', '.join(DATASETS)}, or your own data as a mapping "
                f"{{type: {'|'.join(SOURCE_KINDS)}, path: ...}}; got {show_value(dataset)}",
            )
        info = DATASETS[dataset]
        is_image, task, image_size = info.is_image, info.task, info.shape[1:] if info.is_image else None
    dataset_name = dataset if isinstance(dataset, str) else dataset.name
    model = parse_model(ctx, data["model"], base)
    if model == "cnn" and is_image is False:
        raise ctx.error("model", f"'cnn' needs an image dataset; '{dataset_name}' is not one (use 'mlp')")
    classification = task == "classification"
    objectives = parse_objectives(ctx, data, dataset=dataset_name, classification=classification)
    constraints = parse_constraints(ctx, data.get("constraints"), classification=classification)
    pruner = parse_pruner(ctx, data.get("pruner", {} if len(objectives) == 1 else {"name": "none"}))
    if len(objectives) > 1 and pruner.name != "none":
        raise ctx.error(
            "pruner.name",
            f"Optuna's pruners work on one objective only, got {pruner.name!r}; a "
            "multi-objective study trains every trial to the end (use none, or leave 'pruner' out)",
        )

    family = model if model in MODELS else "custom"
    maybe_image = is_image is not False  # an .npz file's shape is only known once it is loaded
    fixed = parse_fixed(ctx, data.get("fixed", {}), model=family, is_image=maybe_image)
    space = parse_space(ctx, data.get("space"), model=family, is_image=maybe_image, fixed=fixed)
    if family != "custom":
        check_layers(ctx, space, fixed, model=model, image_size=image_size)

    validation_size = data.get("validation_size", 0.1)
    if (
        isinstance(validation_size, bool)
        or not isinstance(validation_size, (int, float))
        or not (
            (isinstance(validation_size, int) and validation_size >= 1)
            or (isinstance(validation_size, float) and 0.0 < validation_size < 1.0)
        )
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
        sampler=parse_sampler(ctx, data.get("sampler", {})),
        pruner=pruner,
        fixed=MappingProxyType(fixed),
        space=space,
        source=source,
        user_params=user_params(space, fixed) if family == "custom" else (),
        final=parse_final(ctx, data.get("final", {})),
        confirm=parse_confirm(ctx, data.get("confirm"), objectives=objectives),
        stop=parse_stop(ctx, data.get("stop"), objectives=objectives),
        precision=ctx.choice(data, "precision", PRECISIONS, "fp32"),
        step=ctx.choice(data, "step", STEPS, "plain"),
        batch_seeds=ctx.boolean(data, "batch_seeds", False),
    )
