"""The one module that touches Optuna's private API: names that start with an underscore, and ``optuna.storages._rdb``.

Crash recovery, slot claims and forked workers need a few things Optuna does not publish: a study's storage and id,
a trial's id, the RDB storage behind Optuna's cache, its SQLAlchemy engine, and the trial table. Every other module
asks these functions, so a release of Optuna that renames one breaks here, in one place. ``pyproject.toml`` allows
only the Optuna versions tested (:data:`TESTED`), and :func:`check` names, in one line, whatever is missing from the
installed Optuna (``tests/storage/test_optuna_private.py`` runs it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from autotune.errors import StorageError

#: The Optuna versions autotune is tested with: the bound in pyproject.toml's dependencies
TESTED = ">=5.0,<6"


def storage_of(study: Any) -> Any:
    """The storage a study reads and writes (``study._storage``); a storage is returned as it is."""
    return getattr(study, "_storage", study)


def study_id(study: Any) -> int:
    return study._study_id


def trial_id(trial: Any) -> int:
    """A trial's id in its storage (``_trial_id``), of a live or a frozen trial."""
    return trial._trial_id


def rdb_of(storage: Any) -> Any:
    """The RDB storage behind Optuna's cache (``_CachedStorage._backend``), or the storage itself."""
    return getattr(storage, "_backend", storage)


def engine_of(study: Any) -> Any:
    """The SQLAlchemy engine of a study's (or a storage's) database, or None for a storage without one."""
    return getattr(rdb_of(storage_of(study)), "engine", None)


def release_connections(study: Any) -> None:
    """Close this process's pooled database connections of ``study`` (a study or a storage) before a fork
    (reopened when next needed), so no child inherits a live SQLite handle or PostgreSQL socket that the parent
    also uses."""
    engine = engine_of(study)
    if engine is not None:
        engine.dispose()


@contextlib.contextmanager
def session(rdb: Any) -> Iterator[Any]:
    """A SQLAlchemy session on an RDB storage, committed or rolled back as Optuna's own are."""
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(rdb.scoped_session) as db:
        yield db


def trial_model() -> Any:
    """Optuna's ORM class of the trials table (``optuna.storages._rdb.models.TrialModel``)."""
    from optuna.storages._rdb import models

    return models.TrialModel


def check() -> None:
    """Raise :class:`~autotune.errors.StorageError` naming every internal above that the installed Optuna lacks."""
    import importlib

    import optuna

    missing = []
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created" line for this probe
    try:
        study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
        trial = study.ask()
    finally:
        optuna.logging.set_verbosity(verbosity)
    for owner, name in ((study, "_storage"), (study, "_study_id"), (trial, "_trial_id")):
        if not hasattr(owner, name):
            missing.append(f"{type(owner).__name__}.{name}")
    found = {}
    for module, name in (
        ("optuna.storages._cached_storage", "_CachedStorage"),
        ("optuna.storages._rdb.storage", "RDBStorage"),
        ("optuna.storages._rdb.storage", "_create_scoped_session"),
    ):
        try:
            found[name] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            missing.append(f"{module}.{name}")
    # attributes set in __init__ (an instance would need a database): the names its code stores
    for cls, names in (
        ("_CachedStorage", ("_backend",)),
        ("RDBStorage", ("scoped_session", "engine", "heartbeat_interval", "grace_period")),
    ):
        if cls in found:
            missing += [f"{cls}.{n}" for n in names if n not in found[cls].__init__.__code__.co_names]
    try:
        model = trial_model()
    except ImportError:
        missing.append("optuna.storages._rdb.models.TrialModel")
    else:
        import sqlalchemy.orm

        sqlalchemy.orm.configure_mappers()  # back-references such as TrialModel.heartbeats exist from here on
        missing += [
            f"TrialModel.{c}"
            for c in ("trial_id", "study_id", "state", "datetime_start", "heartbeats")
            if not hasattr(model, c)
        ]
    if missing:
        raise StorageError(
            f"optuna {optuna.__version__} lacks {', '.join(missing)}, which autotune relies on "
            f"(tested with optuna{TESTED}); install a version in that range"
        )
