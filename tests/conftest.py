"""Shared fixtures: an isolated working folder and cache, real data, tiny study specs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.skips import pytest_runtest_makereport, pytest_terminal_summary  # noqa: F401 (hooks: the skip policy)

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    """One dataset cache for the whole session, so MNIST is copied and unpacked once."""
    return tmp_path_factory.mktemp("autotune-cache")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, session_cache):
    """Each test runs in its own empty folder, with its own default database and no stray env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOTUNE_CACHE_DIR", str(session_cache))
    monkeypatch.delenv("AUTOTUNE_STORAGE", raising=False)
    # one worker (trials run in the command's own process, in a fixed order, as the gate and the output checks
    # expect) whatever the machine's environment says; the tests of workers pass --workers K or set this
    monkeypatch.setenv("AUTOTUNE_WORKERS", "1")
    if SHARED_DATA.is_dir():
        monkeypatch.setenv("AUTOTUNE_DATA_DIR", str(SHARED_DATA))
    else:
        monkeypatch.delenv("AUTOTUNE_DATA_DIR", raising=False)
    return tmp_path


@pytest.fixture
def bf16_here(monkeypatch):
    """Tells the tool's hardware check that the device has (True) or lacks (False) bf16 units."""
    from autotune.hardware import precision

    def set_to(value: bool) -> None:
        monkeypatch.setattr(precision, "has_bf16", lambda device: value)

    return set_to


@pytest.fixture
def bf16_cpu(bf16_here) -> bool:
    """Lets a bf16 study run on this CPU; returns whether the CPU has bf16 units. Where it has none (an AVX2-only
    CPU), the tool's hardware check is told it has: torch then emulates bf16 in software, more slowly but with the
    same deterministic arithmetic from run to run, so a test of recording, replaying or exporting bf16 trials
    checks the same code on any CPU; only a bf16 speed would mean nothing there, and no test measures one."""
    from autotune.hardware import precision

    real = precision.has_bf16("cpu")
    if not real:
        bf16_here(True)
    return real


@pytest.fixture
def mnist_available() -> Path:
    if not (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("the offline MNIST files (../shared/data) are not beside this checkout")
    return SHARED_DATA


def invoke(*args: str):
    """Run the ``autotune`` CLI in this process (click's runner); stderr is kept apart from stdout."""
    from click.testing import CliRunner

    from autotune.cli.commands import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_error_line(result, *fragments: str, code: int | None = None) -> None:
    """The promise for bad input: a non-zero exit, exactly one ``Error: …`` line naming the fragments,
    no traceback."""
    assert result.exit_code != 0
    if code is not None:
        assert result.exit_code == code
    assert "Traceback" not in result.output
    one_error_line(result.stderr.strip(), *fragments)


def one_error_line(stderr: str, *fragments: str) -> str:
    """The promise for a real process that fails: its whole stderr is one ``Error: …`` line naming the fragments
    (no progress, log or traceback lines beside it; run such commands with ``-q``). Returns the line."""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def tiny_digits_spec(**overrides) -> dict:
    """A digits spec small enough for a test: 3 epochs, a small space, pruning after 1 trial."""
    spec = {
        "name": "tiny-digits",
        "dataset": "digits",
        "model": "mlp",
        "max_epochs": 3,
        "trials": 4,
        "validation_size": 0.2,
        "seed": 7,
        "sampler": {"name": "tpe", "n_startup_trials": 3},
        "pruner": {"name": "median", "n_startup_trials": 2, "n_warmup_steps": 0},
        "fixed": {"optimizer": "adam"},
        "space": {
            "lr": {"low": 1.0e-3, "high": 3.0e-2, "log": True},
            "batch_size": [64, 128],
            "n_layers": {"low": 1, "high": 2},
            "units": {"low": 16, "high": 64},
            "activation": ["relu", "tanh"],
        },
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec mapping to a YAML file and return its path (as a string)."""

    def write(data: dict, name: str = "spec.yaml") -> str:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return str(path)

    return write


def empty_study(spec_path: str, *, name: str = "tiny-digits", storage: str = "sqlite:///autotune.db"):
    """A study created from a spec file with no trials in it (as `autotune run` would create it)."""
    import optuna

    from autotune.spec.study import load_spec
    from autotune.storage.studies import create_or_load_study, open_storage

    return create_or_load_study(
        open_storage(storage),
        load_spec(spec_path),
        study_name=name,
        sampler=optuna.samplers.RandomSampler(),
        pruner=optuna.pruners.NopPruner(),
    )


def finished_study(folder: Path, spec: dict, *args: str, spec_name: str = "spec.yaml") -> Path:
    """Write ``spec`` into ``folder`` and run it to its end into ``folder/autotune.db`` (artifacts in
    ``folder/artifacts``; ``args``: more `run` options); return the folder. For module-scoped fixtures."""
    (folder / spec_name).write_text(yaml.safe_dump(spec, sort_keys=False))
    result = invoke(
        "run",
        "--study",
        str(folder / spec_name),
        "--storage",
        f"sqlite:///{folder / 'autotune.db'}",
        "--artifact-dir",
        str(folder / "artifacts"),
        "-q",
        *args,
    )
    assert result.exit_code == 0, result.output
    return folder


def md_cells(line: str) -> list[str]:
    """The cells of one row of a Markdown table (``\\|`` inside a cell unescaped)."""
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def postgres_server_url():
    """The PostgreSQL server that .ci/run starts (scripts/pg.sh), from $AUTOTUNE_TEST_POSTGRES_URL.

    Without it the PostgreSQL variants are skipped, unless $AUTOTUNE_REQUIRE_POSTGRES is set
    (as in CI), where a missing server is a failure.
    """
    url = os.environ.get("AUTOTUNE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("AUTOTUNE_REQUIRE_POSTGRES"):
            pytest.fail("AUTOTUNE_REQUIRE_POSTGRES is set but AUTOTUNE_TEST_POSTGRES_URL is not")
        pytest.skip("no PostgreSQL server: set AUTOTUNE_TEST_POSTGRES_URL (bash scripts/pg.sh start)")
    return url


@contextlib.contextmanager
def fresh_pg_database(server: str):
    """A new, empty database on the PostgreSQL ``server`` (its URL) for the ``with`` block; dropped afterwards."""
    import uuid

    import sqlalchemy

    name = "t_" + uuid.uuid4().hex[:12]
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as con:
        con.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as con:
            con.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path):
    """A fresh, empty study database: an SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    with fresh_pg_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


@pytest.fixture
def pg_url(postgres_server_url):
    """A new, empty database on the test PostgreSQL server (workers on a cluster cannot share SQLite)."""
    with fresh_pg_database(postgres_server_url) as url:
        yield url


def load_script(path: Path) -> ModuleType:
    """A script of the repository (``scripts/``, ``examples/``) loaded as a module, to test its functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_glyph_folder(
    out: Path, *, per_class: int = 24, test_per_class: int = 8, size: int = 16, seed: int = 0
) -> Path:
    """The glyphs example's generated image folder (examples/glyphs/make_glyphs.py), small: ``out/{train,test}``."""
    module = load_script(REPO / "examples" / "glyphs" / "make_glyphs.py")
    return module.make_glyphs(out, per_class=per_class, test_per_class=test_per_class, size=size, seed=seed)


@pytest.fixture
def study_path(write_spec):
    """A small finished study in ./autotune.db (no pruning, so its 3 trials are complete) and its spec file."""
    path = write_spec(tiny_digits_spec(pruner={"name": "none"}, fixed={"optimizer": "adam", "dropout": 0.1}))
    assert invoke("run", "--study", path, "--trials", "3", "-q").exit_code == 0
    return path


def stored_study(name: str = "tiny-digits", storage: str = "sqlite:///autotune.db"):
    import optuna

    return optuna.load_study(study_name=name, storage=storage)


def trials_of(url: str, name: str = "tiny-digits") -> list:
    """Every trial of study ``name`` in the database at ``url``, as Optuna reads it now."""
    import optuna

    return optuna.load_study(study_name=name, storage=url).trials


def states(url: str, name: str = "tiny-digits") -> Counter:
    """How many trials of study ``name`` are in each state (``Counter`` of state names)."""
    return Counter(t.state.name for t in trials_of(url, name))


def files(folder: Path) -> set[str]:
    """What a command may have written: the folder's files, less Python's byte-code caches."""
    return {p.name for p in Path(folder).iterdir() if p.name != "__pycache__"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------
# A gate: trials that wait, mid-training, until the test lets them go (kills and signals on cue)

GATE_MODEL = '''\
"""A small MLP whose first training step waits while the gate folder holds a 'hold' file.

$AUTOTUNE_TEST_GATE names the folder. A held process writes 'blocked-<pid>' (so the test knows
that trial is mid-training), then polls every 10 ms (sleeping, so its heartbeat thread keeps
beating) until 'hold' is removed, or until the test writes 'pass-<pid>', which lets this one
trial through (the marker, then the pass, are removed on the way out). With $AUTOTUNE_TEST_GATE_DEAF set,
a held trial ignores KeyboardInterrupt (as a process stuck in native code would): Ctrl-C cannot reach it.
"""
import math
import os
import time
from collections import Counter
from pathlib import Path

from torch import nn


def wait_at_gate():
    folder = os.environ.get("AUTOTUNE_TEST_GATE")
    if not folder:
        return
    folder = Path(folder)
    hold, marker, ticket = folder / "hold", folder / f"blocked-{os.getpid()}", folder / f"pass-{os.getpid()}"
    if not hold.exists():
        return
    marker.touch()
    deaf = bool(os.environ.get("AUTOTUNE_TEST_GATE_DEAF"))
    while hold.exists():
        try:
            if ticket.exists():
                break
            time.sleep(0.01)
        except KeyboardInterrupt:
            if not deaf:
                raise
    marker.unlink(missing_ok=True)
    ticket.unlink(missing_ok=True)


class Gated(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.gated = False

    def forward(self, x):
        if self.training and not self.gated:  # the first training batch; never the eval-mode builder check
            self.gated = True
            wait_at_gate()
        return self.inner(x)


def build(params, input_shape, n_outputs):
    hidden = params["hidden"]
    return Gated(nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), hidden), nn.ReLU(),
                               nn.Linear(hidden, n_outputs)))
'''


def gated_spec(**overrides) -> dict:
    """:func:`tiny_digits_spec` (same name and settings) with the gate's model, ``gate_model.py``, on
    ``gate.npz``, both beside the spec (see :func:`gate`): small generated data that spare every
    worker process scikit-learn's import (a third of its start-up) for the digits."""
    spec = tiny_digits_spec(
        model="gate_model.py:build",
        dataset={"type": "npz", "path": "gate.npz"},
        space={
            "lr": {"low": 1.0e-3, "high": 3.0e-2, "log": True},
            "batch_size": [64, 128],
            "hidden": {"low": 16, "high": 64},
        },
    )
    spec.update(overrides)
    return spec


def wait_for(predicate, what: str, *, procs=(), timeout: float = 300, every: float = 0.01):
    """Poll ``predicate`` until it returns something truthy (returned); fail if one of ``procs`` ends first.

    ``timeout`` is only a safety net for a hung test: what happens is decided by the predicate.
    """
    deadline = time.monotonic() + timeout
    while True:
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(
                    f"process {proc.pid} ended (code {proc.returncode}) while waiting for {what}: {proc.communicate()}"
                )
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class Gate:
    """The test's side of ``gate_model.py``: hold trials, see who is held, let one through, release all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def hold(self) -> None:
        (self.folder / "hold").touch()

    def release(self) -> None:
        (self.folder / "hold").unlink(missing_ok=True)

    def blocked(self) -> set[int]:
        """The pids of the processes whose trial is held mid-training now."""
        return {int(p.name.removeprefix("blocked-")) for p in self.folder.glob("blocked-*")}

    def wait_blocked(self, pid: int, *, procs=(), timeout: float = 300) -> None:
        wait_for(
            lambda: pid in self.blocked(), f"process {pid}'s trial to reach the gate", procs=procs, timeout=timeout
        )

    def let_through(self, pid: int, *, timeout: float = 300) -> None:
        """Let process ``pid``'s held trial go on (its next trial is held again); returns once it went."""
        assert pid in self.blocked(), pid
        ticket = self.folder / f"pass-{pid}"
        ticket.touch()
        wait_for(lambda: not ticket.exists(), f"process {pid} to take its pass", timeout=timeout)

    def forget(self, pid: int) -> None:
        """A killed process's marker (it can no longer remove it itself)."""
        (self.folder / f"blocked-{pid}").unlink(missing_ok=True)


@contextlib.contextmanager
def started(cmd: list[str], gate: Gate | None = None, **popen):
    """A real process of ``cmd`` (``subprocess.Popen`` with text pipes and ``popen``) for the ``with`` block; at its
    end, whatever failed, the gate is released and a process still running is killed: none is left behind."""
    import subprocess

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    try:
        yield proc
    finally:
        if gate is not None:
            gate.release()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.fixture
def gate(tmp_path, monkeypatch) -> Gate:
    """``gate_model.py`` and ``gate.npz`` (see :func:`gated_spec`) in the test's folder, a gate folder named
    by $AUTOTUNE_TEST_GATE, released at the end."""
    import numpy as np

    (tmp_path / "gate_model.py").write_text(GATE_MODEL)
    rng = np.random.default_rng(0)  # 4 classes, linearly separable: 480 training and 120 validation examples
    x = rng.normal(size=(600, 8)).astype(np.float32)
    np.savez(tmp_path / "gate.npz", x=x, y=(x @ rng.normal(size=(8, 4))).argmax(axis=1))
    folder = tmp_path / "gate"
    folder.mkdir()
    monkeypatch.setenv("AUTOTUNE_TEST_GATE", str(folder))
    g = Gate(folder)
    yield g
    g.release()


def worker_name(pid: int) -> str:
    """The ``worker`` user attribute of the trials process ``pid`` on this machine runs (objective.worker_id)."""
    return f"{socket.gethostname()}:{pid}"


def running_trial_of(url: str, pid: int, name: str = "tiny-digits"):
    """The one RUNNING trial of study ``name`` that process ``pid`` runs (fails unless there is exactly one)."""
    import optuna

    trials = [
        t
        for t in optuna.load_study(study_name=name, storage=url).trials
        if t.state.name == "RUNNING" and t.user_attrs.get("worker") == worker_name(pid)
    ]
    assert len(trials) == 1, (pid, trials)
    return trials[0]


def last_heartbeat(url: str, trial_id: int):
    """The time of the trial's last recorded heartbeat (None before its first)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as con:
            return con.execute(
                sqlalchemy.text("SELECT heartbeat FROM trial_heartbeats WHERE trial_id = :t"), {"t": trial_id}
            ).scalar()
    finally:
        engine.dispose()
