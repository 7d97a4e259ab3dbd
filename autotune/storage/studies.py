"""Storage URLs, opening Optuna's RDB storage safely, creating and loading studies, and the note a new study carries
on optuna-dashboard's Note tab (the spec in words).

The default is an SQLite file, ``./autotune.db``; ``--storage`` or ``$AUTOTUNE_STORAGE`` picks
any SQLAlchemy URL Optuna accepts (``postgresql+psycopg://…`` for several machines). The
database stays a stock Optuna database, readable by ``optuna`` and ``optuna-dashboard``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from autotune.base.version import __version__
from autotune.errors import StorageError, StudyNotFoundError, TrialNotFoundError
from autotune.search import goals
from autotune.spec.params import format_number
from autotune.spec.study import ParamSpec, StudySpec

DEFAULT_STORAGE = "sqlite:///autotune.db"
_BACKENDS = ("sqlite", "postgresql", "mysql")
#: Heartbeats: a trial whose worker stops beating for GRACE_PERIOD seconds is failed and retried.
HEARTBEAT_INTERVAL = int(os.environ.get("AUTOTUNE_HEARTBEAT_INTERVAL", "10"))
GRACE_PERIOD = int(os.environ.get("AUTOTUNE_GRACE_PERIOD", "60"))
FINISHED_STATES = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
#: Connections a process keeps to a database server: the main thread's and the heartbeat's (the slot lock
#: opens one more while it claims). Bounded, so that many workers fit the server's max_connections.
POOL_SIZE = int(os.environ.get("AUTOTUNE_DB_POOL_SIZE", "2"))


def resolve_storage_url(url: str | None) -> str:
    """``url`` if given, else ``$AUTOTUNE_STORAGE``, else the default SQLite file."""
    return url or os.environ.get("AUTOTUNE_STORAGE") or DEFAULT_STORAGE


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe to print."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1] if "@" in url else url


def storage_option(storage: str) -> tuple[str, str]:
    """The ``--storage`` part of a command to paste (``storage``: the URL as printed, password hidden),
    and a note to print after the command.

    The default database and the one ``$AUTOTUNE_STORAGE`` names need no option; a URL whose password
    was hidden cannot be pasted as printed, so the command names a placeholder and says why."""
    env = os.environ.get("AUTOTUNE_STORAGE")
    if storage == (redact(env) if env else DEFAULT_STORAGE):
        return "", ""
    if "***" in storage:
        return " --storage URL", f" (URL: {storage} with its password, which is not printed)"
    return f" --storage {shlex.quote(storage)}", ""


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL (None for other backends and in-memory SQLite)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_url(url: str) -> None:
    """Raise :class:`StorageError` unless ``url`` is a usable SQLAlchemy URL for a supported backend."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    allowed = "sqlite:///PATH, postgresql+psycopg://USER@HOST:PORT/DB, mysql+pymysql://USER@HOST/DB"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"storage URL '{redact(url)}' cannot be parsed; expected one of: {allowed}") from None
    if parsed.get_backend_name() not in _BACKENDS:
        raise StorageError(f"unknown storage scheme '{parsed.drivername}' in '{redact(url)}'; allowed: {allowed}")
    try:
        parsed.get_dialect()
    except (NoSuchModuleError, ImportError) as exc:
        raise StorageError(
            f"storage driver '{parsed.drivername}' is not available ({exc}); allowed: {allowed}"
        ) from None
    path = sqlite_path(url)
    if path is not None and not path.parent.exists():
        raise StorageError(f"cannot create SQLite database '{path}': folder '{path.parent}' does not exist")


def check_sqlite_file(path: Path) -> None:
    """Refuse an SQLite file that is not a database or is damaged, before anything writes to it
    (SQLite's own ``quick_check``, read-only)."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)) as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check(2)")]
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite file '{path}' cannot be read as a database: {exc}") from None
    if problems != ["ok"]:
        raise StorageError(
            f"SQLite database '{path}' is damaged ({'; '.join(problems)}); nothing was written to it. "
            f"Restore it from a backup, or try `sqlite3 {path} .recover` into a new file"
        )


def open_storage(url: str, *, must_exist: bool = False) -> optuna.storages.RDBStorage:
    """Open (creating its tables if needed) the RDB storage at ``url``, heartbeats on.

    With ``must_exist``, an SQLite URL whose file does not exist is an error instead of
    creating an empty database (read-only commands must not leave files behind).
    """
    check_url(url)
    path = sqlite_path(url)
    if must_exist and path is not None and not path.is_file():
        raise StudyNotFoundError(f"no study database at '{path}' (storage '{redact(url)}')")
    if path is not None and path.is_file():
        check_sqlite_file(path)
    from sqlalchemy.exc import SQLAlchemyError

    backend = url.split(":", 1)[0].split("+", 1)[0]
    connect_args: dict[str, Any] = {"timeout": 60} if backend == "sqlite" else {}
    engine: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "postgresql":
        connect_args["connect_timeout"] = 10
    if backend != "sqlite":  # SQLAlchemy's default would allow 15 per process
        engine.update(pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna; we rely on them knowingly
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs={"connect_args": connect_args, **engine},
                heartbeat_interval=HEARTBEAT_INTERVAL,
                grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3),
            )
    except (SQLAlchemyError, RuntimeError, ValueError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageError(f"cannot open storage '{redact(url)}': {reason}") from None


def create_or_load_study(
    storage: optuna.storages.RDBStorage,
    spec: StudySpec,
    *,
    study_name: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Load ``study_name`` if it exists (it must come from the same spec), else create it."""
    try:
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler, pruner=pruner)
    except KeyError:
        study = optuna.create_study(
            storage=storage,
            study_name=study_name,
            directions=list(spec.directions),
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
    attrs = study.user_attrs
    if "spec_fingerprint" not in attrs:
        study.set_user_attr("spec", spec.to_dict())
        study.set_user_attr("spec_fingerprint", spec.fingerprint())
        study.set_user_attr("description", spec.description)

        study.set_user_attr("autotune_version", __version__)
        from optuna_dashboard import save_note

        with warnings.catch_warnings():  # "experimental"; the dashboard then says "val_accuracy", not "Objective 0"
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(list(spec.metrics))
        # the dashboard's Note tab: the spec in words (the `spec` attribute stays, for the code that reads it)
        save_note(study, study_note(spec, study_name=study_name, storage_url=getattr(storage, "url", DEFAULT_STORAGE)))
    elif attrs["spec_fingerprint"] != spec.fingerprint():
        raise StorageError(
            f"study '{study_name}' in this storage was made from a different spec (fingerprint "
            f"{attrs['spec_fingerprint']}, yours {spec.fingerprint()}); use «study_name» to start a new study, "
            f"and `autotune run --warm-start {study_name}` to seed it with this study's finished trials that fit "
            "your spec"
        )
    stored = tuple(d.name.lower() for d in study.directions)
    if stored != spec.directions:
        raise StorageError(
            f"study '{study_name}' is stored with direction(s) {', '.join(stored)}, "
            f"but the spec says {', '.join(spec.directions)}"
        )
    return study


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED_STATES))


#: The companion study that records a study's replays (see autotune.storage.replays.ReplayStore).
REPLAYS_SUFFIX = ":replays"


@dataclass(frozen=True)
class StudyRow:
    """One study in a storage, for listings."""

    name: str
    direction: str
    states: dict[str, int]
    best_value: float | None
    best_trial: int | None
    spec: str | None
    metric: str | None = None  # the (first) objective's metric, as the study recorded it

    @property
    def n_trials(self) -> int:
        return sum(self.states.values())

    @property
    def replays_of(self) -> str | None:
        """For a replay store (``<study>:replays``: runs of replay, ablate and sweep, not a search), its study."""
        return self.name.removesuffix(REPLAYS_SUFFIX) if self.name.endswith(REPLAYS_SUFFIX) else None

    def to_dict(self) -> dict[str, Any]:
        """What ``autotune studies --json`` lists of a study: every field, and ``n_trials``."""
        return {
            "name": self.name,
            "direction": self.direction,
            "states": self.states,
            "best_value": self.best_value,
            "best_trial": self.best_trial,
            "spec": self.spec,
            "metric": self.metric,
            "n_trials": self.n_trials,
        }


def list_studies(url: str) -> list[StudyRow]:
    """Every study in the storage at ``url`` with trial counts by state and its best value."""
    storage = open_storage(url, must_exist=True)
    rows = []
    for summary in optuna.get_all_study_summaries(storage=storage, include_best_trial=False):
        trials = storage.get_all_trials(storage.get_study_id_from_name(summary.study_name), deepcopy=False)
        states = Counter(t.state.name for t in trials)
        best = None
        if len(summary.directions) == 1 and not summary.study_name.endswith(REPLAYS_SUFFIX):
            with contextlib.suppress(TrialNotFoundError):  # the one best every command means (goals.the_best)
                best = goals.the_best(optuna.load_study(study_name=summary.study_name, storage=storage)).trial
        spec = summary.user_attrs.get("spec", {})
        rows.append(
            StudyRow(
                name=summary.study_name,
                direction="/".join(d.name.lower() for d in summary.directions),  # several: a multi-objective study
                states=dict(sorted(states.items())),
                best_value=best.value if best is not None else None,
                best_trial=best.number if best is not None else None,
                spec=spec.get("name") if isinstance(spec, dict) else None,
                metric=spec.get("metric") if isinstance(spec, dict) else None,
            )
        )
    return rows


def study_note(spec: StudySpec, *, study_name: str, storage_url: str = DEFAULT_STORAGE) -> str:
    """The Markdown note the dashboard shows on a study's Note tab: what the study searches, how, and
    how to report and export it, then the full spec (the ``spec`` user attribute, as YAML).

    A server storage's password is never written into the note: anyone who can open the dashboard reads it.
    """
    import yaml

    def settings(name: str, values: dict[str, Any]) -> str:
        rest = {k: v for k, v in values.items() if k != "name"}
        return name + (f" ({', '.join(f'{k}={_show(v)}' for k, v in rest.items())})" if rest else "")

    spec_dict = spec.to_dict()
    size = spec.validation_size
    validation = f"{size:.0%} of the training data" if isinstance(size, float) else f"{size} training examples"
    dataset = (
        spec.dataset_name
        if isinstance(spec.dataset, str)
        else f"{spec.dataset_name} ({spec.dataset.kind.replace('_', ' ')} at `{spec.dataset.path}`)"
    )
    lines = [f"## {study_name}", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += [
        f"- Spec: {spec.name} (fingerprint {spec.fingerprint()})",
        f"- Dataset: {dataset}; validation: {validation}, drawn with seed {spec.seed}"
        + (f"; each trial trains on {spec.train_subset} examples" if spec.train_subset else ""),
        f"- Model: {spec.model}",
        ("- Objectives: " if spec.multi_objective else "- Objective: ")
        + ", ".join(f"{o.direction} {o.metric}" for o in spec.objectives),
    ]
    if spec.constraints:
        lines.append("- Constraints: " + ", ".join(str(c) for c in spec.constraints))
    pruner = settings(spec.pruner.name, spec_dict["pruner"])
    lines += [
        (
            f"- Budget: {spec.trials} trials in the spec (`autotune run --trials N` sets another target), "
            f"at most {spec.max_epochs} epochs each"
        ),
        f"- Sampler: {settings(spec.sampler.name, spec_dict['sampler'])}",
        f"- Pruner: {pruner}" + (" (every trial trains to the end)" if spec.pruner.name == "none" else ""),
    ]
    if spec.fixed:
        lines.append("- Fixed: " + ", ".join(f"{k}={_show(v)}" for k, v in spec_dict["fixed"].items()))
    params = spec.parameters
    lines += ["", "Search space:", ""]
    lines += [
        f"- {p.name}: {_describe_range(p)}" + (", per layer" if p.name in params and params[p.name].per_layer else "")
        for p in spec.space
    ]
    where, why = storage_option(redact(storage_url))
    study = f"--study {shlex.quote(study_name)}{where}"
    lines += [
        "",
        "Report and export:",
        "",
        f"- `autotune report {study}`: tables, figures and analysis",
        f"- `autotune export {study}`: the best configuration and a final model",
        f"- `autotune replay {study} --trial best`: the best configuration again, over several seeds",
        f"- `autotune ablate {study}`: what each part of the best configuration is worth",
        *([f"- {why.strip()}"] if why else []),
        "",
        "A trial whose user attribute `source` is `hand` is a row imported from a hand table: its values "
        "come from that table's own training budget, so autotune's commands never take it as the best "
        '(the dashboard\'s own "best trial" box compares every trial and may show one).',
        "",
        "Full spec (the study's `spec` attribute):",
        "",
        "```yaml",
        yaml.safe_dump(spec_dict, sort_keys=False).rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(lines)


def _show(value: Any) -> str:
    """A spec value as the spec's YAML writes it: true/false, 0.001, [a, b]."""

    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return format_number(value)


def _describe_range(p: ParamSpec) -> str:
    if p.kind == "categorical":
        return "one of " + ", ".join(_show(c) for c in p.choices)
    text = f"{_show(p.low)} to {_show(p.high)}"
    extras = (
        (["integers"] if p.kind == "int" else [])
        + (["log scale"] if p.log else [])
        + ([f"step {_show(p.step)}"] if p.step is not None else [])
    )
    return text + (f" ({', '.join(extras)})" if extras else "")
