"""Hold a real ``autotune`` process at a chosen point of its work, so that a test can signal it in that phase.

Run a command as ``python -m tests.holds TARGET -- autotune-args...``. TARGET is ``module:attribute.path`` (a
function or method, e.g. ``autotune.reporting.figures:draw``), or ``OUTER>INNER``, two of those: INNER's first call
made while OUTER runs (e.g. the first database query of the report). That first call waits, before doing anything,
while $AUTOTUNE_TEST_GATE/hold exists, having written $AUTOTUNE_TEST_GATE/blocked-<pid>: the same gate folder
and markers as the gated model in tests/conftest.py (its :class:`Gate` drives both). A signal that arrives while
it waits is raised there, inside the phase named by TARGET, whatever the machine's speed.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
import time
from pathlib import Path


def wait_at_gate() -> None:
    folder = Path(os.environ["AUTOTUNE_TEST_GATE"])
    hold, marker = folder / "hold", folder / f"blocked-{os.getpid()}"
    if not hold.exists():
        return
    marker.touch()
    try:
        while hold.exists():
            time.sleep(0.01)
    finally:
        marker.unlink(missing_ok=True)


def _wrap(target: str, before) -> None:
    """Replace the callable ``target`` (``module:attr.path``) by one that calls ``before()`` first."""
    module_name, _, path = target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapped(*args, **kwargs):
        with before():
            return original(*args, **kwargs)

    setattr(owner, name, wrapped)


def hold_in(target: str) -> None:
    """Make the first call of ``target`` (``module:attr.path``, or ``OUTER>INNER``) wait at the gate."""
    outer, _, inner = target.rpartition(">")
    running, held = [], []

    @contextlib.contextmanager
    def around_outer():
        running.append(True)
        try:
            yield
        finally:
            running.pop()

    @contextlib.contextmanager
    def around_inner():
        if not held and (running or not outer):
            held.append(True)
            wait_at_gate()
        yield

    if outer:
        _wrap(outer, around_outer)
    _wrap(inner, around_inner)


if __name__ == "__main__":
    target, separator, *args = sys.argv[1:]
    assert separator == "--", sys.argv
    hold_in(target)
    from autotune.cli.commands import main

    sys.argv = ["autotune", *args]
    main()
