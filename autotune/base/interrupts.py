"""Ctrl-C and SIGTERM as a KeyboardInterrupt that cannot be lost.

Python runs a signal handler between two bytecodes of the main thread, wherever it is. When
that happens inside a garbage-collector or weakref callback (SQLAlchemy has some), the
KeyboardInterrupt the handler raises is printed as "Exception ignored" and dropped, and the
run would go on as if nothing happened. So the handler also records the request, and the run
calls :func:`check` at safe points (between trials, after each epoch) to raise it again; the
"Exception ignored" traceback Python would print for the dropped one is silenced (it is not an
error: the stop goes on).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

_requested = threading.Event()
_deferring = 0  # > 0 while the main thread is inside deferred()


def _handler(signum: int, frame: Any) -> None:
    _requested.set()
    if not _deferring:
        raise KeyboardInterrupt


def requested() -> bool:
    """Whether Ctrl-C or SIGTERM arrived inside the current :func:`stop_on_signals` block."""
    return _requested.is_set()


def check() -> None:
    """Raise KeyboardInterrupt if a stop was requested (even if its first raise was swallowed)."""
    if _requested.is_set():
        raise KeyboardInterrupt


def _quiet_unraisable(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and _requested.is_set():
            return  # our own stop, swallowed by a callback: check() raises it again
        previous(unraisable)

    return hook


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM both stop cleanly, even where a parent shell started us with SIGINT ignored."""
    _requested.clear()
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_unraisable(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _requested.clear()  # a stop belongs to this block: a later run in the same process starts afresh


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C/SIGTERM (raised on exit) around a step that must not be cut in two.

    Done in Python, not with ``pthread_sigmask``: a signal the main thread blocks is simply
    delivered to another thread (a heartbeat, a BLAS worker), and Python still runs the handler
    in the main thread, so a mask defers nothing once there are threads.
    """
    global _deferring
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    if not _deferring:
        check()


@contextlib.contextmanager
def allowed() -> Iterator[None]:
    """Let Ctrl-C/SIGTERM through at once inside a :func:`deferred` block, for long work that leaves
    nothing half-written when cut (training the runs that measure the noise floor under the study's
    slot lock, see :mod:`autotune.analysis.stopping`); a stop requested before it is raised on entry."""
    global _deferring
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held, _deferring = _deferring, 0
    try:
        check()
        yield
    finally:
        _deferring = held
