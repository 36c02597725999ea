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
from bot.usecases import container
from models import queries, rentals
from models.db import db
from models.states import RELEASABLE, SHOWN_TO_OWNER, State
from models.tables import Rental, User

logger = logging.getLogger(__name__)


def owned(rental_id: int, user: User) -> Rental:
    rental = rentals.owned_by(rental_id, user)
    if rental is None:
        raise UserError("my_unknown")
    return rental


async def release(services: Services, rental_id: int, user: User, now: datetime) -> Rental:
    rental = owned(rental_id, user)
    with container.hold(rental, now):  # not while a revival or a removal runs
        rental = rentals.get(rental.id)
        state = State(rental.state)
        if state not in RELEASABLE:
            raise UserError("my_not_releasable", ref=rental.ref, state=state.value)
        try:
            await container.remove(services, rental)
        except RuntimeFaultError as fault:
            logger.error("R%d: cannot remove container: %s", rental.id, fault.message)
            raise UserError("my_release_failed", ref=rental.ref) from None
        target = State.RELEASED if state in (State.ACTIVE, State.EXPIRED) else State.CANCELLED
        with db.atomic():
            queries.release_all(rental, now)
            rentals.must_transition(rental.id, target, now, expect=[state], audit="released",
                                    actor=user, ended_at=now)
    credit_unused_days(services, rental, now)
    return rentals.get(rental.id)


def credit_unused_days(services: Services, rental: Rental, now: datetime) -> int:
    """Give back unused whole days when the refund policy says so (default: nothing), or the
    whole price of a rental that never started."""
    started, expires = queries.from_db(rental.started_at), queries.from_db(rental.expires_at)
    if started is None or expires is None:
        # Cancelled while waiting for GPUs: it never ran, so its charge is given back whole.
        due = rental.price if queries.has_charge(rental) else 0
    else:
        due = refund_due(services.config.billing.refund, rental.price, started, expires, now)
    if due > 0:
        ledger.credit(rental.user, due, f"early release of {rental.ref}", now, rental=rental)
    return due


def my_rentals(user: User) -> list[Rental]:
    return rentals.of_user(user, SHOWN_TO_OWNER)


def published_ports(rental: Rental) -> dict[int, int]:
    """What /my shows for SSH and Jupyter: container port -> host port, while held."""
    return queries.rental_ports(rental)
