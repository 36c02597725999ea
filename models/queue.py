"""The waitlist's order, which an admin may change: first come first served by the time a
rental was queued, so moving one up swaps its time with the one before it."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.db import db
from models.states import State
from models.tables import Rental


def move_up(rental_id: int) -> bool:
    """Swap the rental's place with the one ahead of it; False when it is not queued or first."""
    with db.atomic():
        line = list(Rental.select().where(Rental.state == State.QUEUED.value)
                    .order_by(Rental.queued_at, Rental.id))
        at = next((i for i, r in enumerate(line) if r.id == rental_id), None)
        if not at:  # None (not waiting) or 0 (first already)
            return False
        ahead, this = line[at - 1], line[at]
        earlier: datetime | None = ahead.queued_at
        if earlier is None or this.queued_at is None or earlier == this.queued_at:
            # Queued at the same moment (the id decides): just before the one ahead.
            base = earlier or this.queued_at
            if base is None:
                return False
            Rental.update(queued_at=base - timedelta(microseconds=1)).where(
                Rental.id == this.id).execute()
            return True
        Rental.update(queued_at=this.queued_at).where(Rental.id == ahead.id).execute()
        Rental.update(queued_at=earlier).where(Rental.id == this.id).execute()
    return True
