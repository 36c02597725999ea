"""What is free right now, read from the database (the source of truth for allocations)."""

from __future__ import annotations

from datetime import datetime

from bot.placement import best_fit
from models import hosts, queries, rentals
from models.tables import Rental


def free_gpus(include_unreachable: bool = False) -> dict[str, list[str]]:
    """Free GPU ids per enabled host, hosts in configuration order (by id)."""
    return hosts.free_gpus(include_unreachable)


def queue() -> list[Rental]:
    """Rentals waiting for GPUs, first come first served (by approval time, then id)."""
    return rentals.queued()


def queue_position(rental: Rental) -> int:
    """1-based position; for a rental not yet queued, the position it would get."""
    waiting = queue()
    ids = [r.id for r in waiting]
    return ids.index(rental.id) + 1 if rental.id in ids else len(ids) + 1


def estimate_start(rental: Rental, now: datetime) -> datetime | None:
    """When GPUs for ``rental`` should be free, judged by live rentals' expiry times (and the
    rentals queued ahead taking theirs first). None when nothing we know of will free them."""
    free = free_gpus()
    ahead = [r for r in queue() if r.id != rental.id and (r.queued_at, r.id) < (
        rental.queued_at, rental.id)]
    moment = now
    events = iter(rentals.holding_by_end())
    for waiting in [*ahead, rental]:
        while (spot := best_fit(waiting.gpus, free)) is None:
            ending = next(events, None)
            if ending is None:
                return None
            moment = max(moment, queries.from_db(ending.expires_at) or now)
            if ending.host is not None:
                free.setdefault(ending.host.name, []).extend(queries.rental_gpus(ending))
        free[spot.host] = [g for g in free[spot.host] if g not in spot.gpu_ids]
    return moment
