"""Chores: password messages deleted on time, half-made containers cleaned after a crash."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.ports import DeliveryDelayedError
from bot.services import Services
from bot.usecases import container
from models import messages, queries, rentals
from models.db import db
from models.states import State

logger = logging.getLogger(__name__)


async def delete_due_messages(services: Services, now: datetime) -> int:
    count = 0
    for row in messages.due_for_deletion(now):
        if not messages.claim_deletion(row):
            continue
        try:
            await services.notifier.delete(row.chat_id, row.message_id)
        except DeliveryDelayedError:
            messages.unclaim_deletion(row)  # a password must not outlive its promise: retry
            break  # Telegram is away: the next tick tries again
        count += 1
    return count


async def recover_interrupted(services: Services) -> int:
    """Rentals caught mid-provisioning by a crash: remove what was half made, queue again."""
    return await requeue_orphans(services, services.clock.now())


async def requeue_orphans(services: Services, now: datetime) -> int:
    """Provisioning that no task of this process runs any more (the process that ran it
    died): what was half made is removed, the holds released, the rental queued again."""
    orphans = [r for r in rentals.in_states([State.PROVISIONING])
               if not services.running(f"provision-R{r.id}")]
    for rental in orphans:
        if rental.host is not None:
            await container.remove_leftovers(services, rental.host.name, rental)
        with db.atomic():
            queries.release_all(rental, now)
            moved = rentals.transition(
                rental.id, State.QUEUED, now, expect=[State.PROVISIONING], audit="recovered",
                detail="interrupted provisioning",
                queued_at=queries.from_db(rental.queued_at) or now, container_id="")
        if moved:
            logger.warning("R%d: provisioning was interrupted; back in the queue", rental.id)
    return len(orphans)


def resume_approved(services: Services) -> int:
    """Approved rentals whose provisioning never started (a crash right after the decision,
    or a payment recorded while the bot was down) are started now."""
    from bot.usecases.payments import start_if_payable

    return sum(start_if_payable(services, rental)
               for rental in rentals.in_states([State.APPROVED]))
