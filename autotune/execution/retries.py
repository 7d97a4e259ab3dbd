"""Database retries: a worker rides out a lost connection with back-off for :data:`RETRY_SECONDS`, and a storage
that failed for good (a full or read-only disk, a damaged file) becomes one :class:`~autotune.errors.StorageError`
that says what is kept and what to do next.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

import optuna

from autotune.errors import PERMANENT_STORAGE_FAILURES, StorageError, storage_failure
from autotune.storage.studies import redact

T = TypeVar("T")
#: How long a worker keeps retrying a lost database connection before giving up.
RETRY_SECONDS = float(os.environ.get("AUTOTUNE_DB_RETRY_SECONDS", "60"))


def storage_failed(url: str, exc: BaseException) -> StorageError:
    """A storage that failed for good (a full or read-only disk, a damaged file), wherever it surfaced."""
    return StorageError(
        f"storage '{redact(url)}' failed: {storage_failure(exc) or exc}; finished trials are stored "
        "(a running one is marked FAIL where the storage allows it); fix the cause and run the same "
        "command again"
    )


def retry(fn: Callable[[], T], url: str | None) -> T:
    """Call ``fn``, retrying with back-off while the database is unreachable, for RETRY_SECONDS at most."""
    from sqlalchemy.exc import DBAPIError

    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.5
    while True:
        try:
            return fn()
        except (optuna.exceptions.StorageInternalError, DBAPIError) as exc:
            reason = storage_failure(exc) or str(exc)
            if any(p in reason for p in PERMANENT_STORAGE_FAILURES):
                raise storage_failed(url or "", exc) from None
            if time.monotonic() + delay > deadline:
                raise StorageError(
                    f"lost the connection to storage '{redact(url or '')}' for {RETRY_SECONDS:g} s "
                    f"({reason}); finished trials are stored; run again to continue"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
