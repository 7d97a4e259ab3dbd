"""Ctrl-C and SIGTERM as a KeyboardInterrupt that cannot be lost.

Python runs a signal handler between two bytecodes of the main thread, wherever it is. When
that happens inside a garbage-collector or weakref callback (SQLAlchemy has some), the
KeyboardInterrupt the handler raises is printed as "Exception ignored" and dropped, and the
run would go on as if nothing happened. So the handler also records the request, and the run
calls :func:`check` at safe points (between trials, after each epoch) to raise it again.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

_requested = threading.Event()


def _handler(signum: int, frame: Any) -> None:
    _requested.set()
    raise KeyboardInterrupt


def requested() -> bool:
    """Whether Ctrl-C or SIGTERM arrived since :func:`stop_on_signals` was entered."""
    return _requested.is_set()


def check() -> None:
    """Raise KeyboardInterrupt if a stop was requested (even if its first raise was swallowed)."""
    if _requested.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM both stop cleanly, even where a parent shell started us with SIGINT ignored."""
    _requested.clear()
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM (delivered on exit) around a step that must not be cut in two."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
