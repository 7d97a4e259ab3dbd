"""Serving optuna-dashboard on a study storage, with the storage's artifact folder.

optuna-dashboard has no authentication: anyone who can reach the port can read and change
the studies. We bind 127.0.0.1 unless told otherwise, and warn when told otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from autotune.errors import DashboardError
from autotune.storage import open_storage, redact


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
    return (f"Warning: serving on {host}:{port}, not loopback. optuna-dashboard has no authentication: anyone "
            f"who can reach this address can read, edit and delete your studies.")


def make_dashboard_server(storage_url: str, *, host: str = "127.0.0.1", port: int = 8080,
                          artifact_dir: Path | None = None) -> WSGIServer:
    """Open the storage (it must exist) and bind the dashboard's HTTP server; raises clear errors."""
    import optuna_dashboard

    from autotune.artifacts import open_store

    storage = open_storage(storage_url, must_exist=True)
    store = open_store(artifact_dir) if artifact_dir is not None else None
    app = optuna_dashboard.wsgi(storage, artifact_store=store)
    try:
        return make_server(host, port, app, handler_class=_QuietHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise DashboardError(f"port {port} on {host} is already in use; choose another with --port") from None
        raise DashboardError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def serve(storage_url: str, *, host: str, port: int, artifact_dir: Path | None,
          echo: Callable[[str], None] = print) -> None:
    """Serve until Ctrl-C or SIGTERM (raised as KeyboardInterrupt), then close the server."""
    server = make_dashboard_server(storage_url, host=host, port=port, artifact_dir=artifact_dir)
    warning = exposure_warning(host, port)
    if warning:
        echo(warning)
    shown = f"[{host}]" if ":" in host else host
    echo(f"optuna-dashboard for {redact(storage_url)} at http://{shown}:{server.server_port}/ "
         f"(artifacts: {artifact_dir}); press Ctrl-C to stop")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    echo("Dashboard stopped.")


def start_background(storage_url: str, *, host: str, port: int, artifact_dir: Path | None,
                     wait: float = 30.0) -> subprocess.Popen:
    """Start ``autotune dashboard`` as a child process and wait until it accepts connections."""
    cmd = [sys.executable, "-m", "autotune.cli", "dashboard", "--storage", storage_url, "--host", host,
           "--port", str(port)]
    if artifact_dir is not None:
        cmd += ["--artifact-dir", str(artifact_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
            raise DashboardError(f"the dashboard did not start: {err[-1].removeprefix('Error: ') if err else proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1" if host in ("0.0.0.0", "localhost") else host, port)) == 0:
                return proc
        time.sleep(0.2)
    proc.terminate()
    raise DashboardError(f"the dashboard did not answer on {host}:{port} within {wait:g} s")


@contextlib.contextmanager
def beside(storage: str | None, port: int, artifact_dir: str | None,
           echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> Iterator[None]:
    """optuna-dashboard on 127.0.0.1:``port`` for the length of a run (``run --dashboard``), stopped afterwards."""
    from autotune.artifacts import artifact_dir as default_artifact_dir
    from autotune.storage import resolve_storage_url

    url = resolve_storage_url(storage)
    open_storage(url)  # the dashboard needs the database to exist before the first trial
    proc = start_background(url, host="127.0.0.1", port=port, artifact_dir=default_artifact_dir(url, artifact_dir))
    echo(f"optuna-dashboard: http://127.0.0.1:{port}/")
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
