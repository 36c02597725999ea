"""The database handle: a proxy bound once at start-up to SQLite (default) or PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

from peewee import Database
from playhouse.db_url import connect

from models.base import db
from models.migrations import migrate

logger = logging.getLogger(__name__)

__all__ = ["close_database", "db", "open_database", "open_existing"]

_SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


def open_database(url: str) -> Database:
    """Connect ``url`` (``sqlite:///path`` or ``postgresql://...``), bind it and migrate."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        database = connect(url, pragmas=_SQLITE_PRAGMAS)
    else:
        database = connect(url)
    db.initialize(database)
    database.connect(reuse_if_open=True)
    migrate(database)
    return database


def open_existing(url: str) -> Database:
    """Connect to a database the bot already made, without migrating (``gpurent health``)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist yet")
    database = connect(url, pragmas=_SQLITE_PRAGMAS) if url.startswith("sqlite") else connect(url)
    db.initialize(database)
    database.connect(reuse_if_open=True)
    return database


def close_database() -> None:
    if db.obj is not None and not db.is_closed():
        db.close()
