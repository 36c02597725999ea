"""Unit-test fixtures: every database test runs on SQLite and on PostgreSQL (when the test
command started one: GPURENT_TEST_POSTGRES_URL); a fake runtime and services on it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playhouse.db_url import connect

from bot.services import Services
from models.db import close_database, open_database
from tests.unit.test_lifecycle import FakeRuntime, make_services


def _per_worker(url: str) -> str:
    """Under pytest-xdist every worker gets a database of its own on the same server (each
    test drops and remakes the schema, which would pull it out from under another worker)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    import psycopg2

    parts = urlsplit(url)
    name = f"gpurent_test_{worker}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


POSTGRES_URL = _per_worker(os.environ.get("GPURENT_TEST_POSTGRES_URL", ""))


def _fresh_postgres(url: str) -> None:
    admin = connect(url)
    admin.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gpurent.db'}"
    elif not POSTGRES_URL:
        pytest.skip("no PostgreSQL here (scripts/test.sh starts one)")
    else:
        url = POSTGRES_URL
        _fresh_postgres(url)
    open_database(url)
    yield url
    close_database()


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def svc(database: str, runtime: FakeRuntime) -> Services:
    return make_services(runtime)
