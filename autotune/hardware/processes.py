"""Processes forked from this one, each with one torch thread: the local workers and the confirmation's parallel runs.

A forked process starts in milliseconds and shares the parent's loaded data (its pages are only read, so the
kernel never copies them). It can only be used with one torch thread on the CPU: OpenMP's thread pool does not
survive a fork (a forked process with two threads hangs in its first parallel region once the parent has used
two), and CUDA cannot be used in a forked child at all.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any

from autotune.base import interrupts
from autotune.errors import AutotuneError, WorkerError
from autotune.hardware.devices import set_threads


def can_fork(device: str, per_worker: int) -> bool:
    """Whether local workers can be forked from this process (see the module's docstring);
    ``$AUTOTUNE_FORK_WORKERS=0`` starts fresh processes instead."""
    return (
        device == "cpu"
        and per_worker == 1
        and os.environ.get("AUTOTUNE_FORK_WORKERS", "1") != "0"
        and "fork" in multiprocessing.get_all_start_methods()
    )


class Forked:
    """A process forked from this one, with the face of a ``subprocess.Popen`` (wait, returncode, send_signal,
    stderr): it runs ``target(*args)`` with its stderr on a pipe, one torch thread, and errors as one line."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        read, write = os.pipe()
        self._proc = multiprocessing.get_context("fork").Process(
            target=_forked_main, args=(write, target, args), daemon=False
        )
        self._proc.start()
        os.close(write)  # the child holds the only write end: its exit ends the stream
        self.stderr: IO[str] = os.fdopen(read, "r", errors="replace")
        self.pid = self._proc.pid

    def wait(self) -> int | None:
        self._proc.join()
        return self.returncode

    @property
    def returncode(self) -> int | None:
        return self._proc.exitcode

    def send_signal(self, sig: int) -> None:
        if self._proc.exitcode is None:
            os.kill(self.pid, sig)


def _forked_main(write: int, target: Callable[..., None], args: tuple) -> None:
    """A forked child's life: its lines go to the pipe (as a fresh worker's would), errors are one line."""

    os.dup2(write, 2)
    os.close(write)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    # the parent's sys.stderr may be a test runner's buffer: write to the pipe itself
    sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", buffering=1, closefd=False)
    os.environ["AUTOTUNE_PROGRESS"] = "lines"
    set_threads(1)
    code = 0
    try:
        with interrupts.stop_on_signals():
            target(*args)
    except AutotuneError as exc:
        print("Error: " + " ".join(exc.for_flags().split()), file=sys.stderr, flush=True)
        code = getattr(exc, "exit_code", 1)
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr, flush=True)
        code = 130
    sys.stderr.flush()
    sys.exit(code)


def fork_map(fn: Callable[[Any], None], jobs: Sequence[Any], workers: int) -> None:
    """Run ``fn(job)`` for every job in ``workers`` processes forked from this one (job i in process
    i mod K), one torch thread each, and wait. Close pooled database connections first (see
    :func:`autotune.storage.optuna_private.release_connections`): each process opens its own. Ctrl-C reaches them
    all (KeyboardInterrupt here once they stopped); a failed process raises :class:`WorkerError` with its error
    line."""
    procs = [Forked(_each, fn, jobs[i::workers]) for i in range(min(workers, len(jobs)))]
    wait_all(procs)


def _each(fn: Callable[[Any], None], jobs: Sequence[Any]) -> None:
    for job in jobs:
        fn(job)


def wait_all(
    procs: list[Any],
    *,
    on_interrupt: Callable[[], None] | None = None,
    on_line: Callable[[int, str], None] | None = None,
) -> None:
    """Forward the processes' lines (to ``on_line``) and wait for them all; pass Ctrl-C/SIGTERM on; report the
    first failure as :class:`WorkerError`. Once they stopped after an interruption, ``on_interrupt()`` is called
    (it raises the caller's own :class:`Interrupted`); without it the KeyboardInterrupt goes on."""
    errors: list[list[str]] = [[] for _ in procs]
    pumps = [
        threading.Thread(target=_pump, args=(p.stderr, i, errors[i], on_line or _print_line), daemon=True)
        for i, p in enumerate(procs)
    ]
    for t in pumps:
        t.start()
    try:
        for p in procs:
            p.wait()
    except KeyboardInterrupt:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGINT)
        for p in procs:
            p.wait()
        if on_interrupt is None:
            raise
        on_interrupt()
        raise
    finally:
        for t in pumps:
            t.join(timeout=5)
    failed = [(i, p.returncode) for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        i, code = failed[0]
        last = next((line for line in reversed(errors[i]) if line.startswith("Error: ")), f"exit code {code}")
        raise WorkerError(f"worker {i + 1} of {len(procs)} failed: {last.removeprefix('Error: ')}")


def _pump(stream: IO[str] | None, index: int, keep: list[str], on_line: Callable[[int, str], None]) -> None:
    """Pass a worker's lines on; keep them (its error line names what failed)."""
    assert stream is not None
    for line in stream:
        line = line.rstrip("\n")
        keep.append(line)
        on_line(index, line)


def _print_line(index: int, line: str) -> None:
    print(f"w{index + 1} {line}", file=sys.stderr, flush=True)
