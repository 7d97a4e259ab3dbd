"""Storage: URL resolution and redaction, and a database that stock optuna-dashboard reads."""

from __future__ import annotations

import io
import json
from pathlib import Path

import optuna
import pytest

from autotune.errors import StorageError, StudyNotFoundError
from autotune.execution.runner import run_study
from autotune.spec.study import parse_spec
from autotune.storage.studies import DEFAULT_STORAGE, check_url, list_studies, open_storage, redact, resolve_storage_url
from tests.conftest import tiny_digits_spec


def test_resolution_order(monkeypatch):
    assert resolve_storage_url(None) == DEFAULT_STORAGE == "sqlite:///autotune.db"
    monkeypatch.setenv("AUTOTUNE_STORAGE", "sqlite:///env.db")
    assert resolve_storage_url(None) == "sqlite:///env.db"
    assert resolve_storage_url("sqlite:///cli.db") == "sqlite:///cli.db"


def test_passwords_are_redacted():
    assert (
        redact("postgresql+psycopg://me:hunter2@db.example:5432/s") == "postgresql+psycopg://me:***@db.example:5432/s"
    )
    assert "hunter2" not in redact("mysql+pymysql://me:hunter2@h/db")


@pytest.mark.parametrize(
    "url, message",
    [
        ("redis://localhost", "unknown storage scheme 'redis'"),
        ("postgresql+nodriver://h/db", "storage driver 'postgresql+nodriver' is not available"),
        ("::::", "cannot be parsed"),
    ],
)
def test_bad_urls(url, message):
    with pytest.raises(StorageError) as info:
        check_url(url)
    assert message in str(info.value)


def test_read_only_listing_never_creates_a_file():
    with pytest.raises(StudyNotFoundError):
        list_studies("sqlite:///missing.db")
    assert not Path("missing.db").exists()


def test_unreachable_postgres_is_one_clear_error():
    with pytest.raises(StorageError) as info:
        open_storage("postgresql+psycopg://postgres:pw@127.0.0.1:1/db")
    assert str(info.value).startswith("cannot open storage 'postgresql+psycopg://postgres:***@127.0.0.1:1/db': ")
    assert "pw@" not in str(info.value)


def _wsgi_get(app, path: str) -> tuple[str, bytes]:
    status = {}
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    body = b"".join(app(environ, lambda s, h, *a: status.setdefault("s", s)))
    return status["s"], body


def test_database_is_readable_by_stock_optuna_and_optuna_dashboard():
    run_study(parse_spec(tiny_digits_spec()), n_trials=3)
    study = optuna.load_study(study_name="tiny-digits", storage="sqlite:///autotune.db")
    assert len(study.trials) == 3
    from optuna_dashboard import wsgi

    app = wsgi("sqlite:///autotune.db")
    status, body = _wsgi_get(app, "/api/studies")
    assert status.startswith("200")
    (entry,) = json.loads(body)["study_summaries"]
    assert entry["study_name"] == "tiny-digits"
    status, body = _wsgi_get(app, f"/api/studies/{entry['study_id']}")
    assert status.startswith("200")
    detail = json.loads(body)
    assert len(detail["trials"]) == 3
    attrs = {a["key"] for a in detail["trials"][0]["user_attrs"]}
    assert {"seed", "remark", "val_accuracy"} <= attrs


def test_a_server_storage_keeps_a_bounded_pool_of_connections(postgres_server_url):
    # many workers on one server must fit its max_connections: each process keeps 2 (its main thread's and its
    # heartbeat's), with 2 more allowed for a burst, instead of SQLAlchemy's 5 + 10
    import sqlalchemy

    from autotune.storage.studies import POOL_SIZE, open_storage

    storage = open_storage(postgres_server_url)
    pool = storage.engine.pool
    assert (POOL_SIZE, pool.size(), pool._max_overflow) == (2, 2, 2)
    with storage.engine.connect() as a, storage.engine.connect() as b:
        assert a.execute(sqlalchemy.text("SELECT 1")).scalar() == b.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
    assert pool.checkedin() == 2  # both kept open for the next use, no more
    storage.engine.dispose()
