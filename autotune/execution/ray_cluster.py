"""The Ray cluster, checked before a Ray run writes anything: the options of its tasks, that Ray is installed, the
address (HOST:PORT, ray://HOST:PORT or auto), that a Ray cluster answers there within :data:`CONNECT_TIMEOUT`
seconds, and that one of its nodes can take one task.

``import ray`` happens inside the functions here (or in a child process): autotune and ``--help`` never load it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from typing import Any

from autotune.errors import OptionError, SchedulerError

#: Seconds a Ray cluster has to answer. Ray itself keeps retrying an address that does not answer as a
#: cluster (a dashboard's or a database's port) for many minutes.
CONNECT_TIMEOUT = float(os.environ.get("AUTOTUNE_RAY_CONNECT_TIMEOUT", "30"))

_ADDRESS_RE = re.compile(r"^(ray://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")

# Run in a child process, so that an address that never answers as a Ray cluster costs CONNECT_TIMEOUT
# seconds, not Ray's own minutes of retries. Prints the resources of each live node.
_PROBE = """\
import json, logging, sys
import ray
ray.init(address=sys.argv[1], logging_level=logging.ERROR, log_to_driver=False)
print(json.dumps([n["Resources"] for n in ray.nodes() if n.get("Alive")]))
"""


def check_options(*, workers: Any, cpus_per_worker: Any, gpus_per_worker: Any) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise OptionError(f"«workers» must be a whole number >= 1 (one Ray task each), got {workers}")
    if isinstance(cpus_per_worker, bool) or not isinstance(cpus_per_worker, int) or cpus_per_worker < 1:
        raise OptionError(
            f"«cpus_per_worker» must be a whole number >= 1 (the worker's torch threads), got {cpus_per_worker}"
        )
    if isinstance(gpus_per_worker, bool) or not isinstance(gpus_per_worker, (int, float)):
        raise OptionError(f"«gpus_per_worker» must be a number >= 0, got {gpus_per_worker!r}")
    if not gpus_per_worker >= 0:
        raise OptionError(f"«gpus_per_worker» must be >= 0, got {gpus_per_worker:g}")
    if gpus_per_worker > 1 and gpus_per_worker != int(gpus_per_worker):
        raise OptionError(
            f"«gpus_per_worker» {gpus_per_worker:g}: Ray gives a task a fraction of one GPU (up to 1) "
            "or whole GPUs, not more than one GPU in part"
        )


def import_ray() -> Any:
    # the workers' progress lines as they are: not merged across tasks ("[repeated 2x across cluster]", which
    # Ray reads when it is imported), nor coloured where they do not go to a terminal
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    if not sys.stderr.isatty():
        os.environ.setdefault("RAY_COLOR_PREFIX", "0")
    try:
        import ray
    except ImportError:
        raise SchedulerError(
            "Ray is not installed here: pip install 'autotune[ray]' (the same Ray version as the cluster's)"
        ) from None
    return ray


def resolve_address(address: str) -> str:
    """``address`` checked: HOST:PORT, ray://HOST:PORT (Ray Client) or ``auto`` ($RAY_ADDRESS when set, else
    what Ray finds on this machine: the cluster ``ray start`` started)."""
    address = address.strip()
    if address == "auto" and os.environ.get("RAY_ADDRESS"):
        address = os.environ["RAY_ADDRESS"].strip()
    if address == "auto":
        return address
    match = _ADDRESS_RE.match(address)
    if not match or not 0 < int(match.group(3)) < 65536:
        raise OptionError(
            f"--ray {address!r}: give the head's HOST:PORT (as `ray start --head` prints it; port "
            "6379 by default), ray://HOST:PORT for Ray Client, or auto"
        )
    return address


def probe(address: str) -> list[dict[str, float]]:
    """The resources of each live node of the Ray cluster at ``address``; a SchedulerError, within
    CONNECT_TIMEOUT seconds, when none answers there."""
    match = _ADDRESS_RE.match(address)
    if match:  # a closed port or an unknown host: say so at once
        host, port = match.group(2).strip("[]"), int(match.group(3))
        try:
            socket.create_connection((host, port), timeout=min(CONNECT_TIMEOUT, 5)).close()
        except OSError as exc:
            raise SchedulerError(
                f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc}); start one "
                "with `ray start --head`, or give its head's address"
            ) from None
    proc = subprocess.Popen(
        [sys.executable, "-c", _PROBE, address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=CONNECT_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise SchedulerError(
            f"--ray {address}: no Ray cluster answered within {CONNECT_TIMEOUT:g} s; give the "
            "head's GCS address (as `ray start --head` prints it; port 6379 by default), not the "
            "dashboard's"
        ) from None
    if proc.returncode != 0:
        if address == "auto" and "Could not find any running Ray instance" in err:
            raise SchedulerError(
                "--ray auto: no Ray cluster found ($RAY_ADDRESS is not set, and `ray start` started "
                "none on this machine); give the head's HOST:PORT"
            )
        lines = [line.strip() for line in err.splitlines() if line.strip() and not line.startswith((" ", "\t"))]
        raise SchedulerError(
            f"--ray {address}: cannot connect to a Ray cluster: "
            f"{lines[-1] if lines else f'exit code {proc.returncode}'}"
        )
    return json.loads(out.strip().splitlines()[-1])


def check_fits(nodes: list[dict[str, float]], *, address: str, cpus_per_worker: int, gpus_per_worker: float) -> None:
    """Some node must be able to take one task, or Ray would queue the tasks forever."""
    if any(n.get("CPU", 0) >= cpus_per_worker and n.get("GPU", 0) >= gpus_per_worker for n in nodes):
        return
    have = "; ".join(f"{n.get('CPU', 0):g} CPU, {n.get('GPU', 0):g} GPU" for n in nodes) or "no live node"
    raise SchedulerError(
        f"no node of the Ray cluster at {address} can take a worker of {cpus_per_worker} CPU and "
        f"{gpus_per_worker:g} GPU (its nodes: {have}); lower «cpus_per_worker» or "
        "«gpus_per_worker»"
    )
