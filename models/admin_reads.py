"""What the admin console lists: rentals by state a page at a time, students, the audit
trail. Reads only; every write goes through its own module (rentals, settings, ledger)."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import fn

from models.states import State
from models.tables import AuditEvent, Rental, User


def rentals_page(states: Iterable[State], page: int, size: int) -> tuple[list[Rental], int]:
    """Page ``page`` (from 0) of the rentals in ``states``, newest first, and their total."""
    values = [s.value for s in states]
    query = Rental.select().where(Rental.state.in_(values))
    total = int(query.count())
    rows = list(query.order_by(Rental.id.desc()).offset(page * size).limit(size))
    return rows, total


def users_page(page: int, size: int) -> tuple[list[User], int]:
    """Page ``page`` of everyone who started the bot, newest first, and their total."""
    total = int(User.select().count())
    rows = list(User.select().order_by(User.id.desc()).offset(page * size).limit(size))
    return rows, total


def user_by_telegram(telegram_id: int) -> User | None:
    return User.get_or_none(User.telegram_id == telegram_id)


def user_by_id(user_id: int) -> User | None:
    return User.get_or_none(User.id == user_id)


def user_by_name(username: str) -> User | None:
    """By Telegram @username, case-insensitively (Telegram treats it so)."""
    return User.get_or_none(fn.LOWER(User.username) == username.lower())


def rentals_of(user: User, limit: int) -> list[Rental]:
    return list(Rental.select().where(Rental.user == user).order_by(Rental.id.desc())
                .limit(limit))


def students_with_state(states: Iterable[State]) -> list[User]:
    """Everyone with a rental in ``states`` (once each), by id."""
    values = [s.value for s in states]
    ids = Rental.select(Rental.user).where(Rental.state.in_(values))
    return list(User.select().where(User.id.in_(ids) & ~User.blocked).order_by(User.id))


def students() -> list[User]:
    """Every account that is not blocked, by id."""
    return list(User.select().where(~User.blocked).order_by(User.id))


def audit_of_rental(rental_id: int, limit: int) -> list[AuditEvent]:
    """The rental's newest ``limit`` audit entries, oldest first."""
    rows = (AuditEvent.select().where(AuditEvent.rental == rental_id)
            .order_by(AuditEvent.id.desc()).limit(limit))
    return list(reversed(list(rows)))


def audit_of_user(user: User, limit: int) -> list[AuditEvent]:
    """What ``user`` did and what happened to their rentals, newest ``limit``, oldest first."""
    theirs = Rental.select(Rental.id).where(Rental.user == user)
    rows = (AuditEvent.select().where((AuditEvent.actor == user) | AuditEvent.rental.in_(theirs)
                                      | AuditEvent.detail.startswith(f"user {user.telegram_id}:"))
            .order_by(AuditEvent.id.desc()).limit(limit))
    return list(reversed(list(rows)))


def audit_newest(limit: int) -> list[AuditEvent]:
    rows = AuditEvent.select().order_by(AuditEvent.id.desc()).limit(limit)
    return list(reversed(list(rows)))
