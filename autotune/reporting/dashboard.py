"""Serving optuna-dashboard on a study storage, with the storage's artifact folder.

optuna-dashboard has no authentication: anyone who can reach the port can read and change
the studies. We bind 127.0.0.1 unless told otherwise, and warn when told otherwise.

The replay stores (``<study>:replays``, the runs of replay, ablate and sweep) are not searches:
the home page's study list leaves them out, and their pages stay reachable by their address.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from autotune.errors import DashboardError
from autotune.storage.artifacts import artifact_dir as default_artifact_dir
from autotune.storage.artifacts import open_store
from autotune.storage.studies import REPLAYS_SUFFIX, open_storage, redact, resolve_storage_url

if TYPE_CHECKING:
    pass

#: The dashboard's JSON list of studies, which its home page draws (GET only; POST creates a study).
STUDY_LIST_PATH = "/api/studies"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # one line per request is noise here
        pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"Warning: serving on {host}:{port}, not loopback. optuna-dashboard has no authentication: anyone "
        f"who can reach this address can read, edit and delete your studies."
    )


def is_replay_store(study_name: str) -> bool:
    return study_name.endswith(REPLAYS_SUFFIX)


def hide_replay_stores(app: Callable) -> Callable:
    """The WSGI ``app`` (optuna-dashboard) with the replay stores left out of its study list.

    Only ``GET /api/studies`` changes; a replay store's own page (``/dashboard/studies/ID``) and
    API still answer, since the storage underneath is untouched (optuna-dashboard looks a single
    study up through the same full list, so filtering the storage would make those pages 404).
    """

    def filtered(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO", "").rstrip("/") != STUDY_LIST_PATH:
            return app(environ, start_response)
        answer: dict[str, Any] = {}
        chunks: list[bytes] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            answer.update(status=status, headers=headers, exc_info=exc_info)
            return chunks.append

        body = app(environ, keep)
        try:
            chunks.extend(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        data = b"".join(chunks)
        if answer["status"].startswith("200"):
            listing = json.loads(data)
            listing["study_summaries"] = [s for s in listing["study_summaries"] if not is_replay_store(s["study_name"])]
            data = json.dumps(listing).encode()
        headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        start_response(answer["status"], [*headers, ("Content-Length", str(len(data)))], answer["exc_info"])
        return [data]

    return filtered


def make_dashboard_server(
    storage_url: str, *, host: str = "127.0.0.1", port: int = 8080, artifact_dir: Path | None = None
) -> WSGIServer:
    """Open the storage (it must exist) and bind the dashboard's HTTP server; raises clear errors.

    The server's ``replay_stores`` attribute lists the replay stores hidden from the study list
    when it started, as (name, study id) pairs.
    """
    import optuna_dashboard

    storage = open_storage(storage_url, must_exist=True)
    store = open_store(artifact_dir) if artifact_dir is not None else None
    app = hide_replay_stores(optuna_dashboard.wsgi(storage, artifact_store=store))
    hidden = [
        (s.study_name, storage.get_study_id_from_name(s.study_name))
        for s in storage.get_all_studies()
        if is_replay_store(s.study_name)
    ]
    try:
        server = make_server(host, port, app, handler_class=_QuietHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise DashboardError(f"port {port} on {host} is already in use; choose another with «port»") from None
        raise DashboardError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    server.replay_stores = sorted(hidden)  # type: ignore[attr-defined]
    return server


def serve(
    storage_url: str, *, host: str, port: int, artifact_dir: Path | None, echo: Callable[[str], None] = print
) -> None:
    """Serve until Ctrl-C or SIGTERM (raised as KeyboardInterrupt), then close the server."""
    server = make_dashboard_server(storage_url, host=host, port=port, artifact_dir=artifact_dir)
    warning = exposure_warning(host, port)
    if warning:
        echo(warning)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{server.server_port}"
    echo(f"optuna-dashboard for {redact(storage_url)} at {base}/ (artifacts: {artifact_dir}); press Ctrl-C to stop")
    stores = server.replay_stores  # type: ignore[attr-defined]
    if stores:
        echo(
            f"Replay stores hidden from the study list: {len(stores)} (runs of replay, ablate and sweep); each still "
            "opens at its address: " + ", ".join(f"{name} at {base}/dashboard/studies/{sid}" for name, sid in stores)
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    echo("Dashboard stopped.")


def start_background(
    storage_url: str, *, host: str, port: int, artifact_dir: Path | None, wait: float = 30.0
) -> subprocess.Popen:
    """Start ``autotune dashboard`` as a child process and wait until it accepts connections."""
    cmd = [
        sys.executable,
        "-m",
        "autotune.cli",
        "dashboard",
        "--storage",
        storage_url,
        "--host",
        host,
        "--port",
        str(port),
    ]
    if artifact_dir is not None:
        cmd += ["--artifact-dir", str(artifact_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
            raise DashboardError(
                f"the dashboard did not start: {err[-1].removeprefix('Error: ') if err else proc.returncode}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1" if host in ("0.0.0.0", "localhost") else host, port)) == 0:
                return proc
        time.sleep(0.2)
    proc.terminate()
    raise DashboardError(f"the dashboard did not answer on {host}:{port} within {wait:g} s")


@contextlib.contextmanager
def beside(
    storage: str | None,
    port: int,
    artifact_dir: str | None,
    echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> Iterator[None]:
    """optuna-dashboard on 127.0.0.1:``port`` for the length of a run (``run --dashboard``), stopped afterwards."""

    url = resolve_storage_url(storage)
    open_storage(url)  # the dashboard needs the database to exist before the first trial
    proc = start_background(url, host="127.0.0.1", port=port, artifact_dir=default_artifact_dir(url, artifact_dir))
    echo(f"optuna-dashboard: http://127.0.0.1:{port}/")
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
