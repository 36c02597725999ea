"""A rental's state, and its one writer.

Every change of ``Rental.state`` in the code base goes through :func:`transition`: it checks
the move against :mod:`models.states`, claims the row with a conditional ``UPDATE … WHERE
state = current`` (so two workers cannot both move it) and writes the audit entry in the same
transaction. ``tests/unit/test_boundaries.py`` fails if any module outside ``models/`` writes
a rental's state.

The reads here are the questions the use cases ask about rentals, named for what they return.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from models.db import db
from models.states import LIVE, OPEN_REQUEST, State, TransitionError, check
from models.tables import AuditEvent, Host, Rental, User
from models.times import from_db, to_db

logger = logging.getLogger(__name__)


class UnknownRentalError(LookupError):
    """No such rental (or not this student's)."""


def transition(rental_id: int, target: State, now: datetime, *,
               expect: Iterable[State] | None = None, audit: str | None = None,
               actor: User | None = None, detail: str = "", only_if: Any = None,
               **fields: object) -> bool:
    """Move a rental to ``target`` if it is still in one of ``expect`` (default: any state the
    machine allows to reach ``target``) and ``only_if`` (an extra peewee condition) holds.
    Writes ``fields`` and an audit entry (kind ``audit``, default the target's name) in the
    same transaction. False when another worker got there first."""
    allowed = set(expect) if expect is not None else None
    with db.atomic():
        row = Rental.get_by_id(rental_id)
        current = State(row.state)
        if allowed is not None and current not in allowed:
            return False
        check(current, target)
        values: dict[object, object] = {Rental.state: target.value}
        for name, value in fields.items():
            values[getattr(Rental, name)] = to_db(value) if isinstance(value, datetime) else value
        where = (Rental.id == rental_id) & (Rental.state == current.value)
        if only_if is not None:
            where &= only_if
        if Rental.update(values).where(where).execute() != 1:
            return False
        AuditEvent.create(at=to_db(now), kind=audit or target.value, rental=rental_id,
                          actor=actor, detail=detail[:500])
    logger.info("rental R%d: %s -> %s", rental_id, current, target)
    return True


def must_transition(rental_id: int, target: State, now: datetime, *,
                    expect: Iterable[State] | None = None, audit: str | None = None,
                    actor: User | None = None, detail: str = "", **fields: object) -> None:
    """:func:`transition` that must succeed: the caller holds the rental (its lock, or the
    only state that leads there), so losing the race is a bug."""
    if not transition(rental_id, target, now, expect=expect, audit=audit, actor=actor,
                      detail=detail, **fields):
        raise TransitionError(f"R{rental_id} moved meanwhile; not set to {target}")


def submit(user: User, now: datetime, **fields: object) -> Rental:
    """A new request, pending the admin's decision (the only way a rental is born)."""
    with db.atomic():
        rental = Rental.create(user=user, state=State.PENDING.value, created_at=to_db(now),
                               submitted_at=to_db(now), **fields)
        AuditEvent.create(at=to_db(now), kind="submitted", rental=rental, actor=user,
                          detail=f"{fields.get('price')} cents")
    return rental


def expire_if_due(rental_id: int, now: datetime) -> bool:
    """ACTIVE -> EXPIRED only if the end has not moved meanwhile (an extension won)."""
    return transition(rental_id, State.EXPIRED, now, expect=[State.ACTIVE],
                      only_if=Rental.expires_at <= to_db(now))


def push_end(rental: Rental, expires: datetime, now: datetime) -> bool:
    """A later end for a running rental, unless it has ended or the end moved meanwhile (the
    tick is expiring it at this moment, or another extension won)."""
    moved = (Rental.update(expires_at=to_db(expires))
             .where((Rental.id == rental.id) & (Rental.state == State.ACTIVE.value)
                    & (Rental.expires_at == rental.expires_at)
                    & (Rental.expires_at > to_db(now))).execute())
    return bool(moved == 1)


def set_credentials_due(rental_id: int, due: bool, password_hash: str | None = None) -> None:
    """Mark (or clear) that the student still needs credentials; with a new password hash."""
    values: dict[object, object] = {Rental.credentials_due: due}
    if password_hash is not None:
        values[Rental.password_hash] = password_hash
    Rental.update(values).where(Rental.id == rental_id).execute()


def replaced_container(rental_id: int, cid: str, name: str, password_hash: str) -> None:
    """The rental runs in a new container now (recreated from its image)."""
    Rental.update(container_id=cid, container_name=name, password_hash=password_hash).where(
        Rental.id == rental_id).execute()


# --- reads -------------------------------------------------------------------------------

def get(rental_id: int) -> Rental:
    """The rental as the database has it now (raises UnknownRentalError)."""
    found = Rental.get_or_none(Rental.id == rental_id)
    if found is None:
        raise UnknownRentalError(rental_id)
    return found


def find(rental_id: int) -> Rental | None:
    return Rental.get_or_none(Rental.id == rental_id)


def owned_by(rental_id: int, user: User) -> Rental | None:
    """The rental if ``user`` owns it."""
    return Rental.get_or_none((Rental.id == rental_id) & (Rental.user == user))


def state_of(rental_id: int) -> State:
    return State(get(rental_id).state)


def in_states(states: Iterable[State]) -> list[Rental]:
    """Rentals in any of ``states``, oldest first."""
    values = [s.value for s in states]
    return list(Rental.select().where(Rental.state.in_(values)).order_by(Rental.id))


def queued() -> list[Rental]:
    """Rentals waiting for GPUs, first come first served (by approval time, then id)."""
    return list(Rental.select().where(Rental.state == State.QUEUED.value)
                .order_by(Rental.queued_at, Rental.id))


def open_request(user: User) -> Rental | None:
    """The student's request still waiting for a decision."""
    states = [s.value for s in OPEN_REQUEST]
    return Rental.select().where((Rental.user == user) & Rental.state.in_(states)).first()


def live_count(user: User) -> int:
    live = [s.value for s in LIVE]
    return int(Rental.select().where((Rental.user == user) & Rental.state.in_(live)).count())


def of_user(user: User, states: Iterable[State]) -> list[Rental]:
    """The student's rentals in ``states``, oldest first."""
    values = [s.value for s in states]
    return list(Rental.select().where((Rental.user == user) & Rental.state.in_(values))
                .order_by(Rental.id))


def others_of_user(rental: Rental) -> int:
    """How many other rentals the rental's student has ever made."""
    return int(Rental.select().where((Rental.user == rental.user)
                                     & (Rental.id != rental.id)).count())


def active_due(now: datetime) -> list[Rental]:
    """Running rentals whose time is up."""
    return list(Rental.select().where((Rental.state == State.ACTIVE.value)
                                      & (Rental.expires_at <= to_db(now))))


def active_ending_between(start: datetime, end: datetime) -> list[Rental]:
    """Running rentals whose end falls in (start, end]."""
    return list(Rental.select().where(
        (Rental.state == State.ACTIVE.value) & (Rental.expires_at > to_db(start))
        & (Rental.expires_at <= to_db(end))))


def on_host(host_name: str, states: Iterable[State]) -> list[Rental]:
    """Rentals placed on the host in any of ``states``."""
    values = [s.value for s in states]
    return list(Rental.select().join(Host, on=Rental.host == Host.id)
                .where((Host.name == host_name) & Rental.state.in_(values)).order_by(Rental.id))


def credentials_due() -> list[Rental]:
    """Running rentals whose credentials never reached the student."""
    return list(Rental.select().where((Rental.state == State.ACTIVE.value)
                                      & Rental.credentials_due))


def ends(rental: Rental) -> datetime | None:
    return from_db(rental.expires_at)


# --- reads added for the use cases ---

def active_placed() -> list[Rental]:
    """Running rentals with their host (the ones that have containers to watch), by id."""
    return list(Rental.select().where((Rental.state == State.ACTIVE.value)
                                      & Rental.host.is_null(False)).order_by(Rental.id))


def among(ids: Iterable[int]) -> list[Rental]:
    """Those of ``ids`` that exist, in any state, by id."""
    wanted = list(dict.fromkeys(ids))
    found: list[Rental] = []
    for first in range(0, len(wanted), 500):  # bounded parameter lists
        found.extend(Rental.select().where(Rental.id.in_(wanted[first:first + 500])))
    return sorted(found, key=lambda r: r.id)


def active_among(ids: Iterable[int]) -> list[Rental]:
    """Those of ``ids`` that are running, by id."""
    return list(Rental.select().where(Rental.id.in_(list(ids))
                                      & (Rental.state == State.ACTIVE.value))
                .order_by(Rental.id))


def holding_by_end() -> list[Rental]:
    """Rentals holding GPUs (running or being set up) with a known end, soonest end first:
    the order in which GPUs come free."""
    holding = [State.ACTIVE.value, State.PROVISIONING.value]
    return list(Rental.select().where(Rental.state.in_(holding) & Rental.expires_at.is_null(False))
                .order_by(Rental.expires_at))
