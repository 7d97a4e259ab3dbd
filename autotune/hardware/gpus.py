"""GPUs for local workers: ``run --workers K`` on a machine with several GPUs gives each worker its own.

Worker *i* sees one GPU through ``CUDA_VISIBLE_DEVICES`` (so it trains on ``cuda`` = that GPU), dealt
round robin; ``--trials-per-gpu M`` packs M workers on each GPU (M trials share it) before the next.
The GPUs dealt are those ``CUDA_VISIBLE_DEVICES`` already names, else every GPU torch counts.
"""

from __future__ import annotations

import os

from autotune.errors import OptionError


def visible(count: int, env: str | None = None) -> list[str]:
    """The GPU ids a worker may be given: ``$CUDA_VISIBLE_DEVICES``'s entries if it is set, else 0..count-1."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES") if env is None else env
    if env is not None and env.strip():
        return [g.strip() for g in env.split(",") if g.strip()][:count]
    return [str(i) for i in range(count)]


def assign(workers: int, gpus: list[str], per_gpu: int | None = None) -> list[str]:
    """The ``CUDA_VISIBLE_DEVICES`` of each of ``workers`` workers. Without ``per_gpu``, round robin: worker i
    gets ``gpus[i % n]``. With it, packed: worker i gets ``gpus[i // per_gpu]``, and more workers than
    ``len(gpus) * per_gpu`` is an error."""
    if per_gpu is None:
        if not gpus:
            raise OptionError("no CUDA GPU is visible here to give the workers")
        return [gpus[i % len(gpus)] for i in range(workers)]
    if per_gpu < 1:
        raise OptionError(f"«trials_per_gpu» must be >= 1, got {per_gpu}")
    if not gpus:
        raise OptionError("«trials_per_gpu»: no CUDA GPU is visible here; leave it out, or run on a GPU machine")
    if workers > len(gpus) * per_gpu:
        raise OptionError(
            f"«workers» {workers} with «trials_per_gpu» {per_gpu} needs {-(-workers // per_gpu)} GPU(s); "
            f"{len(gpus)} visible ({','.join(gpus)}): lower «workers» or raise «trials_per_gpu»"
        )
    return [gpus[i // per_gpu] for i in range(workers)]
