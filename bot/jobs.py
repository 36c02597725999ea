"""Periodic work, run by PTB's JobQueue. Each step is an idempotent claim on database rows."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram.ext import ContextTypes

from bot.services import Services, services_of
from bot.usecases import (
    digest,
    hosts,
    housekeeping,
    lifecycle,
    reconcile,
    redeliver,
    retention,
    unpaid,
    usage,
    waitlist,
)
from models import lease

logger = logging.getLogger(__name__)

Step = Callable[[Services, datetime], Awaitable[int]]
# Expiry comes before the waitlist drains, so GPUs freed at expiry go to it in the same tick.
LIFECYCLE_STEPS: tuple[tuple[str, Step], ...] = (
    ("credentials_resent", redeliver.deliver_due),
    ("expired", lifecycle.expire_due),
    ("reminded", lifecycle.send_reminders),
    ("containers_removed", retention.remove_containers),
    ("workspaces_cleared", retention.clear_workspaces),
    ("sampled", usage.sample),
    ("idle_reminded", usage.check_idle),
    ("summaries", digest.daily_summaries),
    ("unpaid_reminded", unpaid.remind_unpaid),
    ("digests", digest.admin_digest),
)


async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context.bot_data)
    holder = services.lease_holder
    if holder and not lease.renew(holder, services.clock.now()):
        # Another process took the database over (this one stalled past the lease): two
        # would fight over the same containers, so this one stops.
        logger.critical("another gpurent process took over this database; stopping")
        os.kill(os.getpid(), signal.SIGTERM)
        return
    await run_tick(services)


async def run_tick(services: Services) -> dict[str, Any]:
    """One pass: delete due password messages, start waiting rentals that now fit."""
    now = services.clock.now()
    await services.notifier.flush()  # what Telegram could not take before goes first
    await hosts.refresh_unreachable(services)
    await hosts.check_reachable(services)
    if services.reconcile_due(now):
        await reconcile.reconcile(services, now)
    deleted = await housekeeping.delete_due_messages(services, now)
    counts, failure = await run_lifecycle(services, now)
    started = await waitlist.drain(services)
    if deleted or started:
        logger.info("tick: %d message(s) deleted, %d rental(s) started", deleted, started)
    if failure is not None:
        raise failure  # after the other steps ran; the error handler alerts the admins
    return {"deleted": deleted, "started": started, **counts}


async def run_lifecycle(services: Services,
                        now: datetime) -> tuple[dict[str, int], Exception | None]:
    """Each step on its own: one that fails (a bug, a database hiccup) does not hold up the
    others. Returns what each did and the first failure."""
    counts: dict[str, int] = {}
    failure: Exception | None = None
    for name, step in LIFECYCLE_STEPS:
        try:
            counts[name] = await step(services, now)
        except Exception as exc:
            logger.exception("tick step %s failed", name)
            failure = failure or exc
    done = {name: n for name, n in counts.items() if n}
    if done:
        logger.info("tick: %s", done)
    return counts, failure
