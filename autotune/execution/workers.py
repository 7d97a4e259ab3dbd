"""Several local workers: ``run --workers K`` runs K worker processes on this machine.

On the CPU with one thread per worker (the usual case: one worker per core), the workers are
*forked* from the command after it has imported torch and loaded the data (see
:mod:`autotune.hardware.processes`): a worker starts in milliseconds, and the K workers share one copy of the
data. Otherwise (several threads per worker, or a GPU each) every worker is a fresh ``autotune worker`` process
that imports torch and loads the data itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from autotune.errors import Interrupted
from autotune.hardware import gpus
from autotune.hardware.devices import usable_cores
from autotune.hardware.processes import Forked, can_fork, wait_all
from autotune.spec.study import StudySpec
from autotune.storage.optuna_private import release_connections
from autotune.storage.studies import count_finished

#: ``--workers auto`` on the CPU starts at most this many (more only when asked for: the most tested on one
#: SQLite file is 4, on PostgreSQL 64 with ``scripts/bench_scale.py``).
AUTO_MAX_CPU_WORKERS = 8


def auto_count(device: str, *, threads: int | None, target: int, pinned: bool) -> int:
    """``--workers auto``: on the CPU one worker per usable core (``threads`` each when given), at most
    :data:`AUTO_MAX_CPU_WORKERS`; on CUDA one per visible GPU (one in all when a GPU is pinned); on MPS one.
    Never more than the study's trial target."""

    if device.startswith("cuda"):
        if pinned:
            return 1
        import torch

        count = len(gpus.visible(torch.cuda.device_count()))
    elif device == "cpu":
        count = min(AUTO_MAX_CPU_WORKERS, usable_cores() // (threads or 1))
    else:
        count = 1
    return max(1, min(count, target))


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
    forked: Callable[[], None] | None = None,
    on_line: Callable[[int, str], None] | None = None,
) -> None:
    """Run ``workers`` worker processes on the existing ``study`` (``per_worker`` threads each) and wait.
    With ``forked`` (a worker's whole life on the data loaded here: the runner's ``_forked_worker``) and
    :func:`autotune.hardware.processes.can_fork`, each worker is forked from this process and calls it; otherwise
    each is a fresh ``autotune worker`` process. ``gpu_ids``: worker i sees only GPU ``gpu_ids[i]``
    (``CUDA_VISIBLE_DEVICES``) and trains on ``cuda``.

    Ctrl-C/SIGTERM is passed on to every worker (each marks its running trial FAIL); a worker that
    failed is reported with its own error line. ``on_line(i, line)`` gets worker i's lines (default: printed
    to stderr, prefixed ``w<i+1>``).
    """

    def interrupted() -> None:
        raise Interrupted(
            f"interrupted: {count_finished(study)} of {target} trials finished in study '{study.study_name}'; "
            f"the running trials were marked FAIL; run the same command again to continue"
        ) from None

    if forked is not None and not gpu_ids and can_fork(device, per_worker):
        release_connections(study)  # nothing open is inherited: each worker opens its own
        procs: list[Any] = [Forked(forked) for _ in range(workers)]
        wait_all(procs, on_interrupt=interrupted, on_line=on_line)
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
        wait_all(procs, on_interrupt=interrupted, on_line=on_line)


def worker_env(env: dict[str, str], gpu_ids: list[str] | None, index: int) -> dict[str, str]:
    """Worker ``index``'s environment: its own GPU when GPUs are dealt out."""
    return env if not gpu_ids else dict(env, CUDA_VISIBLE_DEVICES=gpu_ids[index])
