"""One exception hierarchy for every user-facing failure.

The CLI turns any :class:`AutotuneError` into a single ``Error: ...`` line and a non-zero
exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: A parameter named in an error's message, written ``«name»``: the library says ``name``, the command line its flag.
_PARAMETER = re.compile(r"«(\w+)»")

#: The command line's flags that are not ``--`` and their parameter's name with dashes.
CLI_FLAGS = {"n_trials": "--trials", "maps": "--map", "script_path": "--script"}


class AutotuneError(Exception):
    """Base class of every error autotune reports to a user.

    A message names the parameter it is about as ``«name»`` (``«n_trials» must be >= 1``): ``str(error)`` says the
    Python parameter (``n_trials must be >= 1``), and :meth:`for_flags` the command line's flag (``--trials``), so
    each check lives once, in the library, and speaks to each caller in its own terms.
    """

    def __str__(self) -> str:
        return _PARAMETER.sub(r"\1", super().__str__())

    def for_flags(self, flags: Mapping[str, str] = CLI_FLAGS) -> str:
        """The message with each parameter as its flag: ``flags[name]``, else ``--name`` with dashes."""
        return _PARAMETER.sub(lambda m: flags.get(m.group(1), "--" + m.group(1).replace("_", "-")), super().__str__())


class SpecError(AutotuneError):
    """A study spec is malformed: unknown key, wrong type, bad range, unknown choice."""


class DataError(AutotuneError):
    """A dataset cannot be found, verified or loaded."""


class ModelError(AutotuneError):
    """A custom model builder cannot be imported or called, or does not return a usable model."""


class CheckpointError(AutotuneError):
    """A checkpoint file is missing, damaged, not autotune's, or carries code (a pickle payload)."""


class DeviceError(AutotuneError):
    """A requested device (``--device``) does not exist or is not available here."""


class StorageError(AutotuneError):
    """A storage URL is invalid, unreachable, or holds an incompatible study."""


class StudyNotFoundError(StorageError):
    """A named study does not exist in the storage."""


def storage_failure(exc: BaseException) -> str | None:
    """The root cause's first line if ``exc`` came out of the database layer (SQLAlchemy, sqlite3,
    psycopg, Optuna's storage), else None. Imports nothing: the CLI calls it for any exception."""
    chain, seen = [], set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        chain.append(node)
        node = node.__cause__ or node.__context__
    from_db = [
        e
        for e in chain
        if type(e).__module__.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg")
        or type(e).__name__ == "StorageInternalError"
    ]
    if not from_db:
        return None
    # the driver's own error (SQLAlchemy keeps it as .orig) says what happened: "database or disk is full"
    drivers = [
        getattr(e, "orig", None) or e
        for e in from_db
        if getattr(e, "orig", None) is not None or type(e).__module__.split(".")[0] in ("sqlite3", "psycopg")
    ]
    text = str(drivers[0] if drivers else from_db[-1]).strip()
    return text.splitlines()[0] if text else type(from_db[-1]).__name__


#: Failures that retrying cannot mend (SQLite's messages): report them at once.
PERMANENT_STORAGE_FAILURES = (
    "database or disk is full",
    "readonly database",
    "disk I/O error",
    "database disk image is malformed",
    "file is not a database",
)


class Interrupted(AutotuneError):
    """A run was stopped by Ctrl-C or SIGTERM; the study is intact and can be resumed."""

    exit_code = 130


class OptionError(AutotuneError):
    """An argument is outside what a command or function allows (``--trials 0``, ``--trial x``, two options
    that exclude each other)."""


class ConfigError(AutotuneError):
    """A configuration (``--set``, ``--config FILE``, ``--values``, ``--baseline FILE``) names an unknown
    parameter, holds a value its parameter does not allow, or cannot be read."""


class TableError(AutotuneError):
    """A hand table (``autotune import --table``) cannot be read: a missing or empty file, a ragged row, an unknown
    or ambiguous column, a value that cannot be read."""


class TrialNotFoundError(AutotuneError):
    """A study has no such trial, or none that can serve (e.g. no complete trial yet)."""


class WorkerError(AutotuneError):
    """A worker process started by ``run --workers K`` failed; its own error line is quoted."""


class SchedulerError(AutotuneError):
    """A cluster scheduler (Slurm's ``sbatch``, a Ray cluster) is missing, unreachable or refused the job."""


class DashboardError(AutotuneError):
    """optuna-dashboard could not be started or did not answer."""


class OutputError(AutotuneError):
    """An output folder (``--out``) cannot be created or written; checked before any work starts."""
