"""The database stores timezone-naive UTC; the code works in aware UTC. One place converts."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime passed to the database layer")
    return when.astimezone(UTC).replace(tzinfo=None)


def from_db(when: datetime | None) -> datetime | None:
    return None if when is None else when.replace(tzinfo=UTC)
