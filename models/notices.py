"""Once-only claims: a message that must go out once is claimed by inserting a :class:`Notice`
with a unique key before it is sent; whoever fails the insert knows someone else sent it. The
key names the cycle it belongs to (the expiry time, the end of the last rental), so a new
cycle re-arms it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from peewee import SQL, IntegrityError, NodeList, PostgresqlDatabase

from models.base import db
from models.states import State
from models.tables import Notice, Rental
from models.times import from_db, to_db


def claim(key: str, now: datetime, rental: Rental | None = None) -> bool:
    """True for exactly one caller per key, across ticks, restarts and processes."""
    if Notice.select().where(Notice.key == key).exists():
        return False  # the common case on every tick after the first: skip the failed insert
    try:
        with db.atomic():
            Notice.create(key=key, rental=rental, created_at=to_db(now), sent_at=to_db(now))
    except IntegrityError:
        return False
    return True


def claimed_among(keys: Iterable[str]) -> set[str]:
    """Those of ``keys`` already claimed, in one query: a tick checks its candidates at once
    instead of asking once per rental."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded parameter lists
        chunk = wanted[start:start + 500]
        found |= {r.key for r in Notice.select(Notice.key).where(Notice.key.in_(chunk))}
    return found


def prefixed(prefix: str) -> Any:
    """``Notice.key`` starts with ``prefix``, in a form the key's index answers (peewee's
    ``startswith`` is a case-insensitive LIKE, which reads every notice ever claimed):
    GLOB on SQLite, LIKE on PostgreSQL (with the ``text_pattern_ops`` index of migration
    step 8). Prefixes are our own constants, free of wildcards."""
    if any(c in prefix for c in "%_*?[\\"):
        raise ValueError(f"claim prefix with a wildcard: {prefix!r}")
    if isinstance(db.obj, PostgresqlDatabase):
        return NodeList((Notice.key, SQL("LIKE"), prefix + "%"))
    return NodeList((Notice.key, SQL("GLOB"), prefix + "*"))


def claimed_at(key: str) -> datetime | None:
    row = Notice.get_or_none(Notice.key == key)
    return None if row is None else from_db(row.created_at)


def unclaim(key: str) -> int:
    return int(Notice.delete().where(Notice.key == key).execute())


def claimed(key: str) -> bool:
    return bool(Notice.select().where(Notice.key == key).exists())


def unclaim_older(key: str, before: datetime) -> int:
    """Drop the claim if it was made before ``before`` (its holder is taken to be gone)."""
    return int(Notice.delete().where((Notice.key == key)
                                     & (Notice.created_at < to_db(before))).execute())


def unclaim_ended(prefix: str) -> int:
    """Drop claims under ``prefix`` whose rental no longer runs: its streak is over."""
    running = Rental.select(Rental.id).where(Rental.state == State.ACTIVE.value)
    return int(Notice.delete().where(prefixed(prefix)
                                     & Notice.rental.not_in(running)).execute())


def rental_ids(prefix: str) -> list[int]:
    """The rental ids named by the keys ``<prefix><id>`` claimed so far."""
    rows = Notice.select(Notice.key).where(prefixed(prefix))
    return [int(row.key[len(prefix):]) for row in rows]


def count_prefixed(prefix: str) -> int:
    """How many claims start with ``prefix`` (e.g. the reminders a student was sent)."""
    return int(Notice.select().where(prefixed(prefix)).count())
