"""Ending a rental early at the student's wish: container removed, GPUs and ports freed,
``/workspace`` kept on the host. Freed GPUs go to the waitlist at once."""

from __future__ import annotations

import logging
from datetime import datetime

from billing import ledger
from billing.payment import refund_due
from bot.errors import UserError
from bot.ports import RuntimeFaultError
from bot.services import Services
from models import queries
from models.db import db
from models.states import LIVE, State
from models.tables import LedgerEntry, Rental, User

logger = logging.getLogger(__name__)

RELEASABLE = (State.ACTIVE, State.EXPIRED, State.QUEUED, State.APPROVED)


def owned(rental_id: int, user: User) -> Rental:
    rental = Rental.get_or_none((Rental.id == rental_id) & (Rental.user == user))
    if rental is None:
        raise UserError("my_unknown")
    return rental


async def release(services: Services, rental_id: int, user: User, now: datetime) -> Rental:
    rental = owned(rental_id, user)
    state = State(rental.state)
    if state not in RELEASABLE:
        raise UserError("my_not_releasable", ref=rental.ref, state=state.value)
    if rental.container_id and rental.host is not None:
        try:
            await remove_container(services, rental.host.name, rental)
        except RuntimeFaultError as fault:
            logger.error("R%d: cannot remove container: %s", rental.id, fault.message)
            raise UserError("my_release_failed", ref=rental.ref) from None
    target = State.RELEASED if state in (State.ACTIVE, State.EXPIRED) else State.CANCELLED
    with db.atomic():
        queries.release_all(rental, now)
        queries.must_transition(rental.id, target, expect=[state], ended_at=now)
    queries.audit("released", now, rental=rental, actor=user)
    credit_unused_days(services, rental, now)
    return Rental.get_by_id(rental.id)


def credit_unused_days(services: Services, rental: Rental, now: datetime) -> int:
    """Give back unused whole days when the refund policy says so (default: nothing), or the
    whole price of a rental that never started."""
    started, expires = queries.from_db(rental.started_at), queries.from_db(rental.expires_at)
    if started is None or expires is None:
        # Cancelled while waiting for GPUs: it never ran, so its charge is given back whole.
        charged = LedgerEntry.select().where((LedgerEntry.rental == rental)
                                             & (LedgerEntry.kind == "charge")).exists()
        due = rental.price if charged else 0
    else:
        due = refund_due(services.config.billing.refund, rental.price, started, expires, now)
    if due > 0:
        ledger.credit(rental.user, due, f"early release of {rental.ref}", now, rental=rental)
    return due


def revival_repository(rental: Rental) -> str:
    """Where a revived rental's committed images live on its host."""
    return f"gpurent/r{rental.id}"


async def remove_container(services: Services, host: str, rental: Rental) -> None:
    """The rental's container and the images its revivals left behind (disk is not free)."""
    await services.runtime.remove(host, rental.container_id)
    try:
        await services.runtime.remove_images(host, revival_repository(rental))
    except RuntimeFaultError as fault:
        logger.warning("R%d: revival images not removed: %s", rental.id, fault.message)


def my_rentals(user: User) -> list[Rental]:
    shown = [s.value for s in (*LIVE, State.PENDING, State.EXPIRED)]
    return list(Rental.select().where((Rental.user == user) & Rental.state.in_(shown))
                .order_by(Rental.id))
