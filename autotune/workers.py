"""Several local workers: ``run --workers K`` starts K ``autotune worker`` processes on this machine."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import optuna

from autotune.errors import Interrupted, WorkerError
from autotune.spec import StudySpec
from autotune.storage import count_finished


def run_local_workers(spec: StudySpec, study: optuna.Study, *, url: str, target: int, workers: int,
                      per_worker: int, data_dir: str | None, device: str, timeout: float | None,
                      artifact_dir: str | None, gpu_ids: list[str] | None = None) -> None:
    """Start ``workers`` worker processes on the existing ``study`` (``per_worker`` threads each) and wait.
    ``gpu_ids``: worker i sees only GPU ``gpu_ids[i]`` (``CUDA_VISIBLE_DEVICES``) and trains on ``cuda``.

    Ctrl-C/SIGTERM is passed on to every worker (each marks its running trial FAIL); a worker that
    failed is reported with its own error line.
    """
    name = study.study_name
    with tempfile.TemporaryDirectory(prefix="autotune-") as tmp:
        spec_file = Path(tmp) / f"{spec.name}.yaml"
        spec.write_yaml(spec_file)
        cmd = [sys.executable, "-m", "autotune.cli", "worker", "--study", str(spec_file), "--storage", url,
               "--study-name", name, "--threads", str(per_worker)]
        if data_dir:
            cmd += ["--data-dir", str(data_dir)]
        if timeout is not None:
            cmd += ["--timeout", str(timeout)]
        if artifact_dir:
            cmd += ["--artifact-dir", str(artifact_dir)]
        env = dict(os.environ, AUTOTUNE_PROGRESS="lines", OMP_NUM_THREADS=str(per_worker))
        procs = [subprocess.Popen(cmd + ["--device", "cuda" if gpu_ids else device], env=worker_env(env, gpu_ids, i),
                                  stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
                 for i in range(workers)]
        errors: list[list[str]] = [[] for _ in procs]
        pumps = [threading.Thread(target=_pump, args=(p, i, errors[i]), daemon=True) for i, p in enumerate(procs)]
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
            done = count_finished(study)
            raise Interrupted(f"interrupted: {done} of {target} trials finished in study '{name}'; "
                              f"the running trials were marked FAIL; run the same command again to continue") from None
        finally:
            for t in pumps:
                t.join(timeout=5)
    failed = [(i, p.returncode) for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        i, code = failed[0]
        last = next((line for line in reversed(errors[i]) if line.startswith("Error: ")), f"exit code {code}")
        raise WorkerError(f"worker {i + 1} of {workers} failed: {last.removeprefix('Error: ')}")


def worker_env(env: dict[str, str], gpu_ids: list[str] | None, index: int) -> dict[str, str]:
    """Worker ``index``'s environment: its own GPU when GPUs are dealt out."""
    return env if not gpu_ids else dict(env, CUDA_VISIBLE_DEVICES=gpu_ids[index])


def _pump(proc: subprocess.Popen, index: int, keep: list[str]) -> None:
    """Forward a worker's progress lines, prefixed with its number; keep its error lines."""
    assert proc.stderr is not None
    for line in proc.stderr:
        line = line.rstrip("\n")
        keep.append(line)
        print(f"w{index + 1} {line}", file=sys.stderr, flush=True)
