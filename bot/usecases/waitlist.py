"""The waitlist: approved rentals that wait for GPUs start by themselves when GPUs free up."""

from __future__ import annotations

import logging

from bot.placement import best_fit
from bot.services import Services
from bot.usecases import inventory
from bot.usecases.provision import build, claim

logger = logging.getLogger(__name__)


async def drain(services: Services) -> int:
    """Start every waiting rental that fits now, first come first served; returns how many.

    A rental further back that fits starts before one ahead that does not (first fit), so a
    two-GPU request does not block single-GPU ones behind it forever. Placement is decided
    here, one rental after another; the container work then runs beside the tick, several
    rentals at once (bounded per host), so a slow image never holds up a healthy rental."""
    started = 0
    async with services.waitlist_lock:
        free = inventory.free_gpus()  # read again only after a claim: it may have changed
        for rental in inventory.queue():
            if best_fit(rental.gpus, free) is None:
                continue
            c = await claim(services, rental)
            free = inventory.free_gpus()
            if c is None:
                continue
            services.spawn(build(services, rental, c), name=f"provision-R{rental.id}")
            started += 1
    if started:
        logger.info("waitlist: started %d rental(s)", started)
    return started
