"""Periodic work, run by PTB's JobQueue. Each step is an idempotent claim on database rows."""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import ContextTypes

from bot.services import Services, services_of
from bot.usecases import hosts, housekeeping, waitlist

logger = logging.getLogger(__name__)

TICK_SECONDS = 60


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_tick(services_of(context.bot_data))


async def run_tick(services: Services) -> dict[str, Any]:
    """One pass: delete due password messages, start waiting rentals that now fit."""
    now = services.clock.now()
    await hosts.refresh_unreachable(services)
    deleted = await housekeeping.delete_due_messages(services, now)
    started = await waitlist.drain(services)
    if deleted or started:
        logger.info("tick: %d message(s) deleted, %d rental(s) started", deleted, started)
    return {"deleted": deleted, "started": started}
