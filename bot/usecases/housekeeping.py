"""Chores: password messages deleted on time, half-made containers cleaned after a crash."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.ports import RuntimeFaultError
from bot.services import Services
from models import queries
from models.db import db
from models.states import State
from models.tables import ChatMessage, Rental

logger = logging.getLogger(__name__)


async def delete_due_messages(services: Services, now: datetime) -> int:
    due = ChatMessage.select().where(
        (ChatMessage.deleted == False)  # noqa: E712 - peewee builds SQL from ==
        & ChatMessage.delete_after.is_null(False)
        & (ChatMessage.delete_after <= queries.to_db(now)))
    count = 0
    for row in due:
        claimed = (ChatMessage.update(deleted=True)
                   .where((ChatMessage.id == row.id) & (ChatMessage.deleted == False))  # noqa: E712
                   .execute())
        if claimed == 1:
            await services.notifier.delete(row.chat_id, row.message_id)
            count += 1
    return count


async def recover_interrupted(services: Services) -> int:
    """Rentals caught mid-provisioning by a crash: remove what was half made, queue again."""
    now = services.clock.now()
    stuck = list(Rental.select().where(Rental.state == State.PROVISIONING.value))
    for rental in stuck:
        host = rental.host.name if rental.host else None
        if host:
            await _remove_by_name(services, host, rental)
        with db.atomic():
            queries.release_all(rental, now)
            queries.must_transition(rental.id, State.QUEUED, expect=[State.PROVISIONING],
                                    queued_at=queries.from_db(rental.queued_at) or now,
                                    container_id="")
        queries.audit("recovered", now, rental=rental, detail="interrupted provisioning")
        logger.warning("R%d: provisioning was interrupted; back in the queue", rental.id)
    return len(stuck)


async def _remove_by_name(services: Services, host: str, rental: Rental) -> None:
    try:
        for cid, labels, _state in await services.runtime.list_ours(host):
            if labels.get("gpurent.rental") == str(rental.id):
                await services.runtime.remove(host, cid)
    except RuntimeFaultError as fault:
        logger.error("R%d: cannot clean up on %s: %s", rental.id, host, fault.message)


def resume_approved(services: Services) -> int:
    """Approved rentals whose provisioning never started (a crash right after the decision,
    or a payment recorded while the bot was down) are started now."""
    from bot.usecases.decide import start_if_payable

    waiting = Rental.select().where(Rental.state == State.APPROVED.value)
    return sum(start_if_payable(services, rental) for rental in waiting)
