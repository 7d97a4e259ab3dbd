"""One exception hierarchy for every user-facing failure.

The CLI turns any :class:`AutotuneError` into a single ``Error: ...`` line and a non-zero
exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class AutotuneError(Exception):
    """Base class of every error autotune reports to a user."""


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


class Interrupted(AutotuneError):
    """A run was stopped by Ctrl-C or SIGTERM; the study is intact and can be resumed."""

    exit_code = 130
