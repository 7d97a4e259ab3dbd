"""Replay, ablation and one-factor sweeps: exact re-runs of stored configurations, with overrides.

A *configuration* is the plain dict :func:`autotune.space.suggest` builds (every parameter
resolved, per-layer widths as lists). A replay trains one configuration over one or more
seeds with :func:`autotune.train.fit` (no pruning) and records every seed's run in a
companion study ``<study>:replays`` in the same storage, keyed by spec, configuration, seed
and epochs, so that ablations and sweeps reuse runs instead of recomputing them.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import optuna

from autotune.errors import AutotuneError, SpecError
from autotune.seeding import derive_seed
from autotune.space import parameter_names, suggest
from autotune.spec import StudySpec, _check_value, _Ctx

METRIC_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


# --------------------------------------------------------------------------------------
# Configurations


def config_from_params(spec: StudySpec, params: dict[str, Any]) -> dict[str, Any]:
    """The full configuration of a trial with these Optuna parameters (e.g. ``trial.params``)."""
    with warnings.catch_warnings():  # FixedTrial warns about values outside the space; we flag those ourselves
        warnings.simplefilter("ignore")
        return suggest(optuna.trial.FixedTrial(params), spec)


def default_config(spec: StudySpec) -> dict[str, Any]:
    """The spec's default configuration: fixed values, else autotune's defaults (the ablation baseline)."""
    return suggest(None, spec)


def config_from_mapping(spec: StudySpec, data: Any, *, source: str) -> dict[str, Any]:
    """A configuration from a user's mapping of parameter values; missing ones take the spec defaults."""
    if not isinstance(data, dict):
        raise AutotuneError(f"{source}: a configuration must be a mapping of parameter to value")
    config = default_config(spec)
    overrides = {str(k): v for k, v in data.items()}
    config, _ = apply_overrides(spec, config, overrides, source=source)
    return config


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``["lr=0.01", "units=[256,128]"]`` → ``{"lr": 0.01, "units": [256, 128]}`` (values read as YAML)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise AutotuneError(f"--set {item!r} is not KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise AutotuneError(f"--set {key.strip()}: cannot parse value {text!r}") from None
    return out


def override_keys(spec: StudySpec, config: dict[str, Any]) -> list[str]:
    per_layer = spec.per_layer
    return parameter_names(spec) + ([f"{per_layer}_l{i}" for i in range(len(config[per_layer]))] if per_layer else [])


def apply_overrides(spec: StudySpec, config: dict[str, Any], overrides: dict[str, Any], *,
                    source: str = "--set") -> tuple[dict[str, Any], list[str]]:
    """Apply typed overrides to a configuration. Returns (new configuration, notes).

    Values are checked against each parameter's type and bounds (errors name the allowed keys
    or values); a value outside the spec's search space is allowed and noted.
    """
    per_layer = spec.per_layer or "\0"  # a custom model has no per-layer keys
    parameters = spec.parameters
    config = {k: (list(v) if isinstance(v, list) else v) for k, v in config.items()}
    allowed = override_keys(spec, config)
    ctx = _Ctx(source)
    notes: list[str] = []
    layer_keys = sorted((k for k in overrides if k.startswith(f"{per_layer}_l")), key=lambda k: k)
    for key in [k for k in overrides if k not in layer_keys] + layer_keys:
        value = overrides[key]
        name = per_layer if key.startswith(f"{per_layer}_l") else key
        if name not in parameters or key not in allowed and not key.startswith(f"{per_layer}_l"):
            raise AutotuneError(f"{source}: unknown parameter {key!r}; allowed: {', '.join(allowed)}")
        info = parameters[name]
        try:
            if key == per_layer:
                values = value if isinstance(value, list) else [value] * config["n_layers"]
                checked: Any = [_check_value(ctx, f"{key}[{i}]", info, v) for i, v in enumerate(values)]
                config["n_layers"] = len(checked)
            elif name == per_layer:
                index = int(key.rsplit("_l", 1)[1])
                if index >= config["n_layers"]:
                    raise AutotuneError(f"{source}: '{key}' does not exist with n_layers={config['n_layers']}")
                checked = config[per_layer][:]
                checked[index] = _check_value(ctx, key, info, value)
            else:
                checked = _check_value(ctx, key, info, value)
                checked = list(checked) if isinstance(checked, tuple) else checked
        except SpecError as exc:
            raise AutotuneError(str(exc)) from None
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
    return ", ".join(f"{k}={_show(after[k])}" for k in keys) or "(none)"


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


# --------------------------------------------------------------------------------------
# Running


@dataclass(frozen=True)
class SeedRun:
    seed: int
    train_loss: float | None
    train_accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    epochs: int
    seconds: float
    diverged: bool
    reused: bool = False
    n_params: int | None = None
    latency_ms: float | None = None  # measured only where the spec's objectives or constraints use it


#: SeedRun fields under a name other than the metric's
_RUN_FIELDS = {"train_seconds": "seconds", "params": "n_params"}


@dataclass
class Replay:
    """One configuration over several seeds."""

    label: str
    config: dict[str, Any]
    runs: list[SeedRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def values(self, key: str) -> list[float]:
        """One value per seed of a SeedRun field or an objective metric (``train_seconds``, ``params``...)."""
        key = _RUN_FIELDS.get(key, key)
        return [getattr(r, key) for r in self.runs if getattr(r, key, None) is not None]

    def mean(self, key: str) -> float | None:
        vals = self.values(key)
        return statistics.fmean(vals) if vals else None

    def std(self, key: str) -> float | None:
        vals = self.values(key)
        return statistics.stdev(vals) if len(vals) > 1 else (0.0 if vals else None)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "config": self.config, "notes": self.notes,
                               "runs": [r.__dict__ for r in self.runs]}
        for key in (*METRIC_KEYS, "seconds"):
            out[key] = {"mean": self.mean(key), "std": self.std(key)}
        return out


def seeds_for(first: int, k: int) -> list[int]:
    """``k`` seeds: ``first`` (e.g. the trial's own), then seeds derived from it."""
    if k < 1:
        raise AutotuneError(f"--seeds must be >= 1, got {k}")
    return [first] + [derive_seed(first, i) for i in range(1, k)]


class ReplayStore:
    """Replays recorded in the companion study ``<study>:replays`` of the same storage."""

    def __init__(self, storage: Any, study_name: str) -> None:
        self.study = optuna.create_study(storage=storage, study_name=f"{study_name}:replays",
                                         direction="maximize", load_if_exists=True)
        self._by_key = {t.user_attrs.get("key"): t for t in self.study.get_trials(deepcopy=False)}

    def get(self, key: str) -> SeedRun | None:
        trial = self._by_key.get(key)
        if trial is None:
            return None
        return SeedRun(**{**trial.user_attrs["run"], "reused": True})

    def put(self, key: str, run: SeedRun, *, config: dict[str, Any], extra: dict[str, Any]) -> None:
        value = run.val_accuracy if run.val_accuracy is not None else (run.val_loss or 0.0)
        trial = optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE, value=value if math.isfinite(value) else 0.0,
            user_attrs={"key": key, "run": run.__dict__, "config": config, **extra})
        self.study.add_trial(trial)
        self._by_key[key] = trial


def replay(spec: StudySpec, config: dict[str, Any], *, seeds: Sequence[int], epochs: int | None = None,
           splits: Any, label: str = "", store: ReplayStore | None = None, extra: dict[str, Any] | None = None,
           notes: Sequence[str] = (), on_run: Callable[[SeedRun], None] | None = None) -> Replay:
    """Train ``config`` once per seed (no pruning); reuse runs already recorded in ``store``."""
    from autotune.train import fit

    max_epochs = epochs or spec.max_epochs
    out = Replay(label=label, config=config, notes=list(notes))
    for seed in seeds:
        key = run_key(spec, config, seed=seed, epochs=max_epochs)
        run = store.get(key) if store is not None else None
        if run is None:
            start = time.perf_counter()
            result = fit(config, splits, family=spec.model, max_epochs=max_epochs, seed=seed)
            last = result.last
            assert last is not None
            seconds = round(time.perf_counter() - start, 3)
            latency = None
            if spec.needs("latency_ms"):
                from autotune.goals import measure

                latency = measure(spec, result, splits)["latency_ms"]
            run = SeedRun(seed=seed, train_loss=_finite(last.train_loss), train_accuracy=last.train_accuracy,
                          val_loss=_finite(last.val_loss), val_accuracy=last.val_accuracy, epochs=last.epoch,
                          seconds=seconds, diverged=result.diverged, n_params=result.n_params, latency_ms=latency)
            if store is not None:
                store.put(key, run, config=config, extra=extra or {})
        out.runs.append(run)
        if on_run is not None:
            on_run(run)
    return out


def run_key(spec: StudySpec, config: dict[str, Any], *, seed: int, epochs: int) -> str:
    blob = json.dumps({"spec": spec.fingerprint(), "config": config, "seed": seed, "epochs": epochs},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def resolve_trial(study: optuna.Study, which: str) -> tuple[optuna.trial.FrozenTrial, list[str]]:
    """``best`` or a trial number → (trial, notes). Pruned and failed trials are allowed but noted.

    In a multi-objective study ``best`` is the best feasible trial by the first objective (noted).
    """
    from autotune import goals

    if which == "best":
        best = goals.best_trial(study, 0)
        if goals.is_multi(study):
            first = (study.metric_names or ["the first objective"])[0]
            return best, [f"'best' in a multi-objective study is the best feasible trial by {first}; "
                          "pick any Pareto trial with --trial N"]
        return best, []
    try:
        number = int(which)
    except ValueError:
        raise AutotuneError(f"--trial must be a trial number or 'best', got '{which}'") from None
    trials = study.get_trials(deepcopy=False)
    if not 0 <= number < len(trials):
        raise AutotuneError(f"study '{study.study_name}' has no trial {number}; trials are 0..{len(trials) - 1}")
    trial = trials[number]
    notes = []
    if trial.state != optuna.trial.TrialState.COMPLETE:
        notes.append(f"trial {number} is {trial.state.name.lower()}: replaying the parameters it had, "
                     f"trained for the full budget")
    return trial, notes


# --------------------------------------------------------------------------------------
# Ablation and sweeps


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


@dataclass
class AblationRow:
    kind: str  # "best" | "baseline" | "leave-one-out" | "path"
    component: str
    configuration: str
    replay: Replay
    delta: float | None = None  # metric minus the best configuration's, in the metric's units
    share: float | None = None  # share of the total gain (baseline → best)
    p_value: float | None = None


def _improvement(spec: StudySpec, a: float, b: float) -> float:
    """How much better ``a`` is than ``b`` for the spec's direction."""
    return a - b if spec.direction == "maximize" else b - a


def _score(spec: StudySpec, value: float | None) -> float:
    """Larger is better, whatever the direction; a missing value is the worst."""
    if value is None or math.isnan(value):
        return -math.inf
    return value if spec.direction == "maximize" else -value


def paired_p_value(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided paired t-test across seeds; None with fewer than 2 pairs or identical differences."""
    if len(a) < 2 or len(a) != len(b):
        return None
    diffs = [x - y for x, y in zip(a, b)]
    if all(d == diffs[0] for d in diffs):
        return None if diffs[0] == 0 else 0.0
    from scipy import stats

    return float(stats.ttest_rel(a, b).pvalue)


def ablate(spec: StudySpec, best: dict[str, Any], baseline: dict[str, Any], *, seeds: Sequence[int], splits: Any,
           epochs: int | None = None, store: ReplayStore | None = None, describe: Callable[[dict], str] = str,
           on_row: Callable[[AblationRow], None] | None = None) -> list[AblationRow]:
    """Leave-one-out (revert one component of the best to the baseline) and a greedy ablation path."""
    metric = spec.metric
    run = lambda cfg, label: replay(spec, cfg, seeds=seeds, epochs=epochs, splits=splits, label=label,  # noqa: E731
                                    store=store, extra={"purpose": "ablation"})
    rows: list[AblationRow] = []

    def add(row: AblationRow) -> None:
        rows.append(row)
        if on_row is not None:
            on_row(row)

    best_run = run(best, "best")
    base_run = run(baseline, "baseline")
    best_m, base_m = best_run.mean(metric), base_run.mean(metric)
    total_gain = _improvement(spec, best_m, base_m) if best_m is not None and base_m is not None else None

    def finish(kind: str, comp: str, cfg: dict[str, Any], rep: Replay, gain_from_base: bool) -> AblationRow:
        m = rep.mean(metric)
        delta = None if m is None or best_m is None else m - best_m
        share = None
        if total_gain and m is not None:
            share = (_improvement(spec, m, base_m) if gain_from_base else _improvement(spec, best_m, m)) / total_gain
        p = paired_p_value(rep.values(metric), best_run.values(metric))
        return AblationRow(kind, comp, describe(cfg), rep, delta, share, p)

    add(AblationRow("best", "best", describe(best), best_run, 0.0, 1.0 if total_gain else None, None))
    add(finish("baseline", "baseline", baseline, base_run, gain_from_base=True))
    diff = components(spec, best, baseline)
    for comp in diff:
        cfg = with_component(spec, best, baseline, comp)
        add(finish("leave-one-out", comp, cfg, run(cfg, f"best without {comp}"), gain_from_base=False))
    current, remaining = dict(baseline), list(diff)
    while remaining:
        tried = []
        for comp in remaining:
            cfg = with_component(spec, current, best, comp)
            tried.append((comp, cfg, run(cfg, f"path + {comp}")))
        comp, cfg, rep = max(tried, key=lambda t: _score(spec, t[2].mean(metric)))
        add(finish("path", comp, cfg, rep, gain_from_base=True))
        current, remaining = cfg, [c for c in remaining if c != comp]
    return rows


def sweep(spec: StudySpec, base: dict[str, Any], param: str, values: Sequence[Any], *, seeds: Sequence[int],
          splits: Any, epochs: int | None = None, store: ReplayStore | None = None,
          on_replay: Callable[[Replay], None] | None = None) -> list[Replay]:
    """One factor at a time: ``param`` set to each value, everything else held at ``base``."""
    out = []
    for value in values:
        if param == "epochs":  # the training budget itself, as in the seed reports' epochs tables
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AutotuneError(f"--values: epochs must be integers >= 1, got {value!r}")
            cfg, notes, run_epochs = base, [], value
        else:
            cfg, notes = apply_overrides(spec, base, {param: value}, source="--values")
            run_epochs = epochs
        rep = replay(spec, cfg, seeds=seeds, epochs=run_epochs, splits=splits, label=f"{param}={_show(value)}",
                     store=store, notes=notes, extra={"purpose": "sweep"})
        out.append(rep)
        if on_replay is not None:
            on_replay(rep)
    return out


# --------------------------------------------------------------------------------------
# Context: the spec, the study and the data a replay needs


@dataclass
class Context:
    spec: StudySpec
    study: optuna.Study | None
    storage: Any

    def store(self) -> ReplayStore | None:
        return ReplayStore(self.storage, self.study.study_name) if self.study is not None else None


def open_context(study: str | StudySpec | None, *, storage: str | None, study_name: str | None,
                 need_study: bool, train_subset: int | None = None) -> Context:
    """Load the stored study (its own stored spec wins) or, without one, just the spec.

    ``train_subset`` shrinks the training split for every run (a smaller budget); it is part of
    the spec, so such runs are recorded apart from full-budget ones.
    """
    context = _open_context(study, storage=storage, study_name=study_name, need_study=need_study)
    if train_subset is not None:
        context.spec = replace(context.spec, train_subset=train_subset)
    return context


def _open_context(study: str | StudySpec | None, *, storage: str | None, study_name: str | None,
                  need_study: bool) -> Context:
    from autotune.spec import load_spec, parse_spec
    from autotune.storage import open_storage, redact, resolve_storage_url

    if study is None:
        raise AutotuneError("--study is required (a shipped spec name or a YAML file)")
    spec = study if isinstance(study, StudySpec) else load_spec(study)
    if not need_study:
        return Context(spec, None, None)
    url = resolve_storage_url(storage)
    rdb = open_storage(url, must_exist=True)
    name = study_name or spec.name
    try:
        loaded = optuna.load_study(study_name=name, storage=rdb)
    except KeyError:
        raise AutotuneError(f"no study '{name}' in storage '{redact(url)}'") from None
    stored = loaded.user_attrs.get("spec")
    if isinstance(stored, dict):
        given, spec = spec, parse_spec(stored, source=f"study '{name}'")
        if given.fingerprint() == spec.fingerprint():  # the same search: your spec's final-model budget applies
            spec = replace(spec, final=given.final)
    return Context(spec, loaded, rdb)


def load_config_file(path: str, spec: StudySpec) -> dict[str, Any]:
    """A configuration from YAML/JSON: a mapping of parameter values, or {config: {...}} as export writes."""
    import yaml

    try:
        data = yaml.safe_load(open(path, encoding="utf-8").read())
    except OSError as exc:
        raise AutotuneError(f"cannot read config file '{path}': {exc.strerror}") from None
    except yaml.YAMLError:
        raise AutotuneError(f"config file '{path}' is not valid YAML/JSON") from None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data = data["config"]
    if not isinstance(data, dict):
        raise AutotuneError(f"config file '{path}' must hold a mapping of parameter to value, "
                            f"got {type(data).__name__}")
    return config_from_mapping(spec, data, source=path)


def ablation_outputs(spec: StudySpec, rows: list[AblationRow], out_dir: Any, *, lang: str = "en") -> dict[str, Any]:
    """Write the ablation table (Markdown, CSV, JSON) and a bar chart; return the verdict lines."""
    from pathlib import Path

    from autotune import plots, tables

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metric = spec.metric
    pct = metric == "val_accuracy"
    heads = [tables.header(k, lang) for k in ("parameter", "configuration", "train_loss", "train_accuracy",
                                              "val_loss", "val_accuracy", "change", "p_value")]
    body = []
    for r in rows:
        rep = r.replay
        if r.kind == "baseline":
            change = tables.header("baseline", lang)
        elif r.delta is None:
            change = "-"
        else:
            delta = f"{r.delta * 100:+.2f} pp" if pct else f"{r.delta:+.4g}"
            change = delta + ("" if r.share is None else f" ({r.share:.0%} of gain)")
        label = {"best": "best", "baseline": "baseline", "leave-one-out": f"- {r.component}",
                 "path": f"+ {r.component}"}[r.kind]
        body.append([label, r.configuration, tables.mean_std(rep.mean("train_loss"), rep.std("train_loss")),
                     tables.mean_std(rep.mean("train_accuracy"), rep.std("train_accuracy"), percent=True),
                     tables.mean_std(rep.mean("val_loss"), rep.std("val_loss")),
                     tables.mean_std(rep.mean("val_accuracy"), rep.std("val_accuracy"), percent=True),
                     change, "-" if r.p_value is None else f"{r.p_value:.3g}"])
    extra = list(spec.metrics[1:])  # a multi-objective study: every further objective gets its own column
    for metric_k in extra:
        heads.append(metric_k)
        for r, cells in zip(rows, body):
            m, d = r.replay.mean(metric_k), objective_delta(rows, r, metric_k)
            cells.append("-" if m is None else f"{m:.4g}" + ("" if d is None or r.kind == "best" else f" ({d:+.3g})"))
    verdict = ablation_verdict(spec, rows)
    md = tables.markdown(heads, body) + "\n" + "\n".join(verdict) + "\n"
    (out / "ablation.md").write_text(md, encoding="utf-8")
    (out / "ablation.csv").write_text(tables.to_csv(heads, body), encoding="utf-8")
    (out / "ablation.json").write_text(json.dumps(
        {"metric": metric, "rows": [{"kind": r.kind, "component": r.component, "configuration": r.configuration,
                                     "delta": r.delta, "share": r.share, "p_value": r.p_value,
                                     "deltas": {m: objective_delta(rows, r, m) for m in spec.metrics},
                                     **r.replay.summary()} for r in rows], "verdict": verdict},
        indent=1, default=str), encoding="utf-8")
    loo = [r for r in rows if r.kind in ("best", "baseline", "leave-one-out")]
    plots.bar_chart([{"best": "best", "baseline": "baseline"}.get(r.kind, f"- {r.component}") for r in loo],
                    [r.replay.mean(metric) or math.nan for r in loo], [r.replay.std(metric) or 0.0 for r in loo],
                    title=f"{spec.name}: leave-one-out ablation ({len(rows[0].replay.runs)} seeds)",
                    ylabel=metric, path=out / "ablation.png", reference=rows[0].replay.mean(metric))
    return {"markdown": md, "verdict": verdict, "files": sorted(p.name for p in out.iterdir())}


def ablation_verdict(spec: StudySpec, rows: list[AblationRow]) -> list[str]:
    """The most critical component, and the changes that made no measurable difference."""
    loo = [r for r in rows if r.kind == "leave-one-out" and r.delta is not None]
    if not loo:
        return ["The best configuration equals the baseline: nothing to ablate."]
    worst = max(loo, key=lambda r: -_score(spec, r.replay.mean(spec.metric)))
    change = f"{worst.delta * 100:+.2f} pp" if spec.metric == "val_accuracy" else f"{worst.delta:+.4g}"
    lines = [f"Most critical component: {worst.component} (removing it changes {spec.metric} by "
             f"{change}{'' if worst.p_value is None else f', paired p={worst.p_value:.3g}'})."]
    spread = max((rows[0].replay.std(spec.metric) or 0.0), 1e-12)
    null = [r.component for r in loo if abs(r.delta) <= spread or (r.p_value is not None and r.p_value > 0.05)]
    if null:
        lines.append("No measurable difference (within one seed standard deviation of the best, or paired "
                     f"p > 0.05): {', '.join(null)}.")
    for objective in spec.objectives[1:]:
        deltas = [(r, objective_delta(rows, r, objective.metric)) for r in loo]
        deltas = [(r, d) for r, d in deltas if d is not None]
        if deltas:  # the component whose removal makes this objective worse by the most
            sign = 1.0 if objective.direction == "maximize" else -1.0
            r, d = min(deltas, key=lambda rd: sign * rd[1])
            lines.append(f"For {objective.metric} ({objective.direction}): removing {r.component} changes it most, "
                         f"by {d:+.4g} (best configuration: {rows[0].replay.mean(objective.metric):.4g}).")
    return lines


def objective_delta(rows: list[AblationRow], row: AblationRow, metric: str) -> float | None:
    """``row``'s mean of ``metric`` minus the best configuration's (the first row)."""
    m, best = row.replay.mean(metric), rows[0].replay.mean(metric)
    return None if m is None or best is None else m - best


def sweep_outputs(spec: StudySpec, param: str, replays: list[Replay], out_dir: Any, *,
                  lang: str = "en") -> dict[str, Any]:
    from pathlib import Path

    from autotune import plots, tables

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    heads = [param] + [tables.header(k, lang) for k in ("train_loss", "train_accuracy", "val_loss",
                                                         "val_accuracy", "seconds")]
    body = [[rep.label.split("=", 1)[1], tables.mean_std(rep.mean("train_loss"), rep.std("train_loss")),
             tables.mean_std(rep.mean("train_accuracy"), rep.std("train_accuracy"), percent=True),
             tables.mean_std(rep.mean("val_loss"), rep.std("val_loss")),
             tables.mean_std(rep.mean("val_accuracy"), rep.std("val_accuracy"), percent=True),
             f"{rep.mean('seconds'):.1f}"] for rep in replays]
    md = tables.markdown(heads, body)
    stem = f"sweep-{param}"
    (out / f"{stem}.md").write_text(md, encoding="utf-8")
    (out / f"{stem}.csv").write_text(tables.to_csv(heads, body), encoding="utf-8")
    (out / f"{stem}.json").write_text(json.dumps({"param": param, "rows": [r.summary() for r in replays]},
                                                 indent=1, default=str), encoding="utf-8")
    plots.line_plot([r.label.split("=", 1)[1] for r in replays],
                    [r.mean(spec.metric) or math.nan for r in replays], [r.std(spec.metric) or 0.0 for r in replays],
                    title=f"{spec.name}: {spec.metric} vs {param}", xlabel=param, ylabel=spec.metric,
                    path=out / f"{stem}.png")
    return {"markdown": md, "files": sorted(p.name for p in out.iterdir())}
