"""One holder at a time for a rental's container work, across tasks and processes.

A lock is a row in ``RentalLock`` with a unique rental: whoever inserts it holds the rental;
the insert of everyone else fails. A lock older than ``STALE`` was left by a crash and is
taken over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import IntegrityError

from models.base import db
from models.tables import RentalLock
from models.times import to_db

STALE = timedelta(hours=2)


def take(rental_id: int, now: datetime) -> bool:
    """True if the caller now holds the rental."""
    RentalLock.delete().where((RentalLock.rental == rental_id)
                              & (RentalLock.taken_at < to_db(now - STALE))).execute()
    try:
        with db.atomic():
            RentalLock.create(rental=rental_id, taken_at=to_db(now))
    except IntegrityError:
        return False
    return True


def give_back(rental_id: int) -> None:
    RentalLock.delete().where(RentalLock.rental == rental_id).execute()


def held(rental_id: int) -> bool:
    return bool(RentalLock.select().where(RentalLock.rental == rental_id).exists())
