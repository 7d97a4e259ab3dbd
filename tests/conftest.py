"""Shared fixtures: an isolated working folder and cache, real data, tiny study specs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import yaml

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
    if SHARED_DATA.is_dir():
        monkeypatch.setenv("AUTOTUNE_DATA_DIR", str(SHARED_DATA))
    else:
        monkeypatch.delenv("AUTOTUNE_DATA_DIR", raising=False)
    return tmp_path


@pytest.fixture
def mnist_available() -> Path:
    if not (SHARED_DATA / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("the offline MNIST files (../shared/data) are not beside this checkout")
    return SHARED_DATA


def invoke(*args: str):
    """Run the ``autotune`` CLI in this process (click's runner); stderr is kept apart from stdout."""
    from click.testing import CliRunner

    from autotune.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_error_line(result, *fragments: str, code: int | None = None) -> None:
    """The promise for bad input: a non-zero exit, exactly one ``Error: …`` line naming the fragments,
    no traceback."""
    assert result.exit_code != 0
    if code is not None:
        assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


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

    from autotune.spec import load_spec
    from autotune.storage import create_or_load_study, open_storage

    return create_or_load_study(open_storage(storage), load_spec(spec_path), study_name=name,
                                sampler=optuna.samplers.RandomSampler(), pruner=optuna.pruners.NopPruner())


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


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path):
    """A fresh, empty study database: an SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    import uuid

    import sqlalchemy

    server = request.getfixturevalue("postgres_server_url")
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as con:
        con.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    yield server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as con:
        con.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def make_glyph_folder(out: Path, *, per_class: int = 24, test_per_class: int = 8, size: int = 16, seed: int = 0) -> Path:
    """The glyphs example's generated image folder (examples/glyphs/make_glyphs.py), small: ``out/{train,test}``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_glyphs", REPO / "examples" / "glyphs" / "make_glyphs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
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
