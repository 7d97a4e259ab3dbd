"""Several local workers: ``run --workers K`` runs K worker processes on this machine.

On the CPU with one thread per worker (the usual case: one worker per core), the workers are
*forked* from the command after it has imported torch and loaded the data: a worker starts in
milliseconds, and the K workers share one copy of the data (its pages are only read, so the
kernel never copies them). Otherwise (several threads per worker, or a GPU each) every worker is
a fresh ``autotune worker`` process that imports torch and loads the data itself: OpenMP's thread
pool does not survive a fork (a forked worker with two threads hangs in its first parallel
region once the parent has used two), and CUDA cannot be used in a forked child at all.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import optuna

from autotune.errors import AutotuneError, Interrupted, WorkerError
from autotune.spec.study import StudySpec
from autotune.storage.studies import count_finished

#: ``--workers auto`` on the CPU starts at most this many (more only when asked for: the most tested on one
#: SQLite file is 4, on PostgreSQL 64 with ``scripts/bench_scale.py``).
AUTO_MAX_CPU_WORKERS = 8


def auto_count(device: str, *, threads: int | None, target: int, pinned: bool) -> int:
    """``--workers auto``: on the CPU one worker per usable core (``threads`` each when given), at most
    :data:`AUTO_MAX_CPU_WORKERS`; on CUDA one per visible GPU (one in all when a GPU is pinned); on MPS one.
    Never more than the study's trial target."""
    from autotune.hardware.devices import usable_cores

    if device.startswith("cuda"):
        if pinned:
            return 1
        import torch

        from autotune.hardware import gpus

        count = len(gpus.visible(torch.cuda.device_count()))
    elif device == "cpu":
        count = min(AUTO_MAX_CPU_WORKERS, usable_cores() // (threads or 1))
    else:
        count = 1
    return max(1, min(count, target))


def can_fork(device: str, per_worker: int) -> bool:
    """Whether local workers can be forked from this process (see the module's docstring);
    ``$AUTOTUNE_FORK_WORKERS=0`` starts fresh processes instead."""
    return (
        device == "cpu"
        and per_worker == 1
        and os.environ.get("AUTOTUNE_FORK_WORKERS", "1") != "0"
        and "fork" in multiprocessing.get_all_start_methods()
    )


def run_local_workers(
    spec: StudySpec,
    study: optuna.Study,
    *,
    url: str,
    target: int,
    workers: int,
    per_worker: int,
    data_dir: str | None,
    device: str,
    timeout: float | None,
    artifact_dir: str | None,
    gpu_ids: list[str] | None = None,
    splits: Any = None,
    on_line: Callable[[int, str], None] | None = None,
) -> None:
    """Run ``workers`` worker processes on the existing ``study`` (``per_worker`` threads each) and wait.
    With ``splits`` (the data, loaded here) and :func:`can_fork`, the workers are forked and use them;
    otherwise each is a fresh process. ``gpu_ids``: worker i sees only GPU ``gpu_ids[i]``
    (``CUDA_VISIBLE_DEVICES``) and trains on ``cuda``.

    Ctrl-C/SIGTERM is passed on to every worker (each marks its running trial FAIL); a worker that
    failed is reported with its own error line. ``on_line(i, line)`` gets worker i's lines (default: printed
    to stderr, prefixed ``w<i+1>``).
    """
    if splits is not None and not gpu_ids and can_fork(device, per_worker):
        _release_connections(study)  # nothing open is inherited: each worker opens its own
        procs: list[Any] = [
            _Forked(_forked_worker, spec, study.study_name, url, splits, timeout, artifact_dir, data_dir)
            for _ in range(workers)
        ]
        _wait(procs, interrupted=(study, target), on_line=on_line)
        return
    name = study.study_name
    with tempfile.TemporaryDirectory(prefix="autotune-") as tmp:
        spec_file = Path(tmp) / f"{spec.name}.yaml"
        spec.write_yaml(spec_file)
        cmd = [
            sys.executable,
            "-m",
            "autotune.cli",
            "worker",
            "--study",
            str(spec_file),
            "--storage",
            url,
            "--study-name",
            name,
            "--threads",
            str(per_worker),
        ]
        if data_dir:
            cmd += ["--data-dir", str(data_dir)]
        if timeout is not None:
            cmd += ["--timeout", str(timeout)]
        if artifact_dir:
            cmd += ["--artifact-dir", str(artifact_dir)]
        env = dict(os.environ, AUTOTUNE_PROGRESS="lines", OMP_NUM_THREADS=str(per_worker))
        procs = [
            subprocess.Popen(
                cmd + ["--device", "cuda" if gpu_ids else device],
                env=worker_env(env, gpu_ids, i),
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
            )
            for i in range(workers)
        ]
        _wait(procs, interrupted=(study, target), on_line=on_line)


def _wait(
    procs: list[Any], *, interrupted: tuple[optuna.Study, int] | None, on_line: Callable[[int, str], None] | None = None
) -> None:
    """Forward the workers' lines (to ``on_line``) and wait for them all; pass Ctrl-C/SIGTERM on; report the
    first failure. ``interrupted``: the (study, target) an interruption is reported for (else
    KeyboardInterrupt goes on)."""
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
        if interrupted is None:
            raise
        study, target = interrupted
        done = count_finished(study)
        raise Interrupted(
            f"interrupted: {done} of {target} trials finished in study '{study.study_name}'; "
            f"the running trials were marked FAIL; run the same command again to continue"
        ) from None
    finally:
        for t in pumps:
            t.join(timeout=5)
    failed = [(i, p.returncode) for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        i, code = failed[0]
        last = next((line for line in reversed(errors[i]) if line.startswith("Error: ")), f"exit code {code}")
        raise WorkerError(f"worker {i + 1} of {len(procs)} failed: {last.removeprefix('Error: ')}")


class _Forked:
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
    from autotune.base import interrupts
    from autotune.hardware.devices import set_threads

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
        print("Error: " + " ".join(str(exc).split()), file=sys.stderr, flush=True)
        code = getattr(exc, "exit_code", 1)
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr, flush=True)
        code = 130
    sys.stderr.flush()
    sys.exit(code)


def fork_map(fn: Callable[[Any], None], jobs: Sequence[Any], workers: int, *, release: Sequence[Any] = ()) -> None:
    """Run ``fn(job)`` for every job in ``workers`` processes forked from this one (job i in process
    i mod K), one torch thread each, and wait. ``release``: studies or storages whose pooled connections are
    closed before the fork (each process opens its own). Ctrl-C reaches them all (KeyboardInterrupt here
    once they stopped); a failed process raises :class:`WorkerError` with its error line."""
    for item in release:
        _release_connections(item)
    procs = [_Forked(_each, fn, jobs[i::workers]) for i in range(min(workers, len(jobs)))]
    _wait(procs, interrupted=None)


def _each(fn: Callable[[Any], None], jobs: Sequence[Any]) -> None:
    for job in jobs:
        fn(job)


def _forked_worker(
    spec: StudySpec,
    name: str,
    url: str,
    splits: Any,
    timeout: float | None,
    artifact_dir: str | None,
    data_dir: str | None,
) -> None:
    """A forked local worker: ``autotune worker`` on the data the parent loaded."""
    from autotune.execution.progress import make_progress
    from autotune.execution.runner import join_loaded

    join_loaded(
        spec,
        url=url,
        name=name,
        splits=splits,
        threads=1,
        device="cpu",
        progress=make_progress(quiet=False),
        timeout=timeout,
        artifact_dir=artifact_dir,
        data_dir=data_dir,
    )


def _release_connections(study: Any) -> None:
    """Close this process's pooled database connections of ``study`` (a study or a storage) before a fork
    (reopened when next needed), so no child inherits a live SQLite handle or PostgreSQL socket that the parent
    also uses."""
    from autotune.storage.optuna_private import engine_of

    engine = engine_of(study)
    if engine is not None:
        engine.dispose()


def worker_env(env: dict[str, str], gpu_ids: list[str] | None, index: int) -> dict[str, str]:
    """Worker ``index``'s environment: its own GPU when GPUs are dealt out."""
    return env if not gpu_ids else dict(env, CUDA_VISIBLE_DEVICES=gpu_ids[index])


def _pump(stream: IO[str] | None, index: int, keep: list[str], on_line: Callable[[int, str], None]) -> None:
    """Pass a worker's lines on; keep them (its error line names what failed)."""
    assert stream is not None
    for line in stream:
        line = line.rstrip("\n")
        keep.append(line)
        on_line(index, line)


def _print_line(index: int, line: str) -> None:
    print(f"w{index + 1} {line}", file=sys.stderr, flush=True)
