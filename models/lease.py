"""One bot process per database. A second one would resume the first one's provisioning,
reconcile away its containers and send every reminder twice, so it refuses to start while the
lease is held and renewed; a lease not renewed for ``TTL`` was left by a process that died."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from peewee import IntegrityError

from models.base import db
from models.tables import ProcessLease
from models.times import from_db, to_db

NAME = "bot"
TTL = timedelta(minutes=3)  # the tick renews it every minute


class LeaseHeldError(RuntimeError):
    """Another live process holds the lease."""

    def __init__(self, holder: str, since: datetime) -> None:
        super().__init__(holder)
        self.holder, self.since = holder, since


def take(holder: str, now: datetime, dead: Callable[[str], bool] = lambda _: False) -> None:
    """Hold the lease, or raise LeaseHeldError naming who holds it. ``dead(holder)`` may say
    for sure that a holder is gone (a process of this machine that no longer exists), so a
    restart after a crash need not wait out ``TTL``."""
    with db.atomic():
        row = ProcessLease.get_or_none(ProcessLease.name == NAME)
        if row is None:
            try:
                with db.atomic():
                    ProcessLease.create(name=NAME, holder=holder, renewed_at=to_db(now))
                return
            except IntegrityError:
                row = ProcessLease.get(ProcessLease.name == NAME)
        renewed = from_db(row.renewed_at) or now
        if row.holder != holder and now - renewed < TTL and not dead(row.holder):
            raise LeaseHeldError(row.holder, renewed)
        ProcessLease.update(holder=holder, renewed_at=to_db(now)).where(
            (ProcessLease.name == NAME) & (ProcessLease.holder == row.holder)).execute()


def renew(holder: str, now: datetime) -> bool:
    """Keep holding; False when another process took the lease over meanwhile."""
    return bool(ProcessLease.update(renewed_at=to_db(now)).where(
        (ProcessLease.name == NAME) & (ProcessLease.holder == holder)).execute())


def give_back(holder: str) -> None:
    ProcessLease.delete().where((ProcessLease.name == NAME)
                                & (ProcessLease.holder == holder)).execute()


def current() -> tuple[str, datetime] | None:
    """Who holds the lease and when they last renewed it; None when nobody does."""
    row = ProcessLease.get_or_none(ProcessLease.name == NAME)
    renewed = None if row is None else from_db(row.renewed_at)
    return None if row is None or renewed is None else (row.holder, renewed)
