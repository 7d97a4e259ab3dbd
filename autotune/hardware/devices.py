"""Devices: ``--device auto|cpu|cuda|cuda:N|mps`` resolved to one torch device, or a clear error."""

from __future__ import annotations

import os
import re
from pathlib import Path

from autotune.errors import DeviceError

CHOICES = "auto, cpu, cuda, cuda:N, mps"
_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def resolve_device(name: str | None) -> str:
    """``auto``: the first CUDA GPU if there is one, else Apple's MPS, else the CPU. An explicit
    device that is not available here is an error (never a silent fall-back to the CPU)."""
    name = "cpu" if name is None else name.strip().lower()
    if not _DEVICE_RE.match(name):
        raise DeviceError(f"«device» {name!r} is not a device; allowed: {CHOICES}")
    if name == "cpu":
        return "cpu"
    import torch

    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps is not None and mps.is_available())
    if name == "auto":
        return "cuda:0" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
    if name == "mps":
        if not mps_ok:
            raise DeviceError(
                "«device» mps: Apple's MPS backend is not available on this machine; use «device» cpu or auto"
            )
        return "mps"
    if not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise DeviceError(
            f"«device» {name}: no CUDA GPU is available here (torch {torch.__version__}, {build}); "
            "use «device» cpu or auto"
        )
    index = int(name.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceError(f"«device» {name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return f"cuda:{index}"


#: Torch threads per process unless ``--threads`` says otherwise. One: beside another program that uses a core, a
#: process with a thread per core waits at every parallel region for the thread that shares its core, and ran
#: 2.5x slower than with one thread; quiet, one thread costs little on these small models (BENCHMARKS.md, "Threads
#: on a busy machine"). The thread count also changes floating-point results, so a fixed default gives the same
#: trials on every machine, whatever its core count or load. More cores go to more workers (``--workers auto``).
DEFAULT_THREADS = 1


def set_threads(threads: int | None) -> None:
    """Give torch ``threads`` CPU threads; None gives :data:`DEFAULT_THREADS` (one)."""
    import torch

    torch.set_num_threads(DEFAULT_THREADS if threads is None else threads)


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity: a container's or a scheduler's limit), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name as the kernel reports it (``/proc/cpuinfo``), with its matrix/bf16 units, e.g.
    ``"AMD EPYC (avx512_bf16)"``; ``platform.processor()`` where there is no ``/proc/cpuinfo``. Benchmarks record
    it, because machines of one kind differ from session to session and their speeds are not comparable."""
    import platform

    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return platform.processor() or platform.machine()
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    units = [u for u in ("amx_bf16", "amx_tile", "avx512_bf16") if u in fields.get("flags", "").split()]
    name = fields.get("model name") or platform.processor() or platform.machine()
    return f"{name} ({', '.join(units) or 'no bf16 units'})"
