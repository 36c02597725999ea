"""GPU usage: samples per rental, idle reminders, the daily summary and the admin digest.

A host's GPU readings map to rentals through their GPU allocations. One row per rental per
sample (the average over its GPUs, per mille) is kept for two days, then merged into hourly
rows and pruned after ``sample_keep_days``, so the tick stays fast as history grows.

The bot never stops a container for idleness; it tells the student once per idle streak (a
streak ends when the window is busy again) and lists idle rentals in the admins' digest.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from types import EllipsisType

from billing.money import format_money
from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.ports import GpuReading, RuntimeFaultError
from bot.services import Services
from bot.usecases import schedule as sch
from models import notices, queries, rentals
from models import usage as samples
from models.tables import Rental, User

logger = logging.getLogger(__name__)

RAW_KEEP = timedelta(days=2)
COMPACT_BATCH = 5000
HOUR = timedelta(hours=1)
IDLE = "idle:"  # claim key prefix: one reminder per idle streak


def active_rentals() -> list[Rental]:
    return rentals.active_placed()


async def sample(services: Services, now: datetime) -> int:
    """Record one sample per running rental, every ``sample_every``; then compact history."""
    every = services.config.lifecycle.sample_every
    running = active_rentals()
    newest = samples.newest_at()
    if not running or (newest is not None and now - newest < every * 0.9):
        return 0
    by_host: dict[str, list[Rental]] = defaultdict(list)
    for rental in running:
        by_host[sch.host_name(rental)].append(rental)
    held = samples.live_gpus([r.id for r in running])  # one query for every rental
    rows: list[tuple[int, datetime, int, int, int]] = []
    for host, on_host in by_host.items():
        try:
            readings = {r.gpu_index: r for r in await services.runtime.gpu_usage(host)}
        except RuntimeFaultError as fault:
            logger.info("no GPU usage from %s: %s", host, fault.message)
            continue
        for rental in on_host:
            found = _reading(held.get(rental.id, []), readings)
            if found is not None:
                rows.append((rental.id, now, sch.seconds(every), *found))
    samples.record_many(rows)
    if rows:
        compact(services, now)
    return len(rows)


def _reading(gpus: list[str], readings: dict[str, GpuReading]) -> tuple[int, int] | None:
    """(util, memory) per mille averaged over the rental's GPUs; None without readings."""
    mine = [readings[g] for g in gpus if g in readings]
    if not mine:
        return None
    utils = [r.utilization for r in mine if r.utilization is not None]
    util_pm = round(sum(utils) * 10 / len(utils)) if utils else 0
    mems = [r.memory_used / r.memory_total for r in mine if r.memory_total > 0]
    mem_pm = round(sum(mems) * 1000 / len(mems)) if mems else 0
    return min(util_pm, 1000), min(mem_pm, 1000)


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def compact(services: Services, now: datetime) -> int:
    """Merge samples older than two days into hourly rows; prune the oldest history."""
    keep = timedelta(days=services.config.lifecycle.sample_keep_days)
    return samples.compact(_hour(now - RAW_KEEP), now - keep, COMPACT_BATCH)


# --- idle reminders -----------------------------------------------------------------------

def idle_verdict(samples: Sequence[tuple[datetime, int, int]], now: datetime, window: timedelta,
                 step: timedelta, util_pm: int, mem_pm: int) -> bool | None:
    """True: idle for the whole window; False: busy; None: not enough data to say.

    ``samples`` are (at, util per mille, memory per mille), newest first, within the window.
    Gaps (bot down, rental just revived) make the answer "don't know", never "idle"."""
    if not samples or now - samples[0][0] > 2 * step:
        return None
    if (sum(s[1] for s in samples) >= util_pm * len(samples)
            or sum(s[2] for s in samples) >= mem_pm * len(samples)):
        return False
    times = [s[0] for s in samples]
    if any(a - b > 2 * step for a, b in pairwise(times)):
        return None
    return True if times[-1] <= now - window + step else None


def _early_verdict(total: tuple[int, int, int, datetime], now: datetime, step: timedelta,
                   util_pm: int, mem_pm: int) -> bool | EllipsisType | None:
    """:func:`idle_verdict`'s first two answers from the window's totals alone (stale: None;
    busy: False); ``...`` when the samples themselves must be read."""
    count, util, mem, newest = total
    if now - newest > 2 * step:
        return None
    if util >= util_pm * count or mem >= mem_pm * count:
        return False
    return ...


def window_samples(rental: Rental, since: datetime) -> list[tuple[datetime, int, int]]:
    return samples.since(rental, since)


async def check_idle(services: Services, now: datetime) -> int:
    """One reminder per idle streak for each running rental."""
    cfg = services.config.lifecycle
    util_pm, mem_pm = round(cfg.idle_util_percent * 10), round(cfg.idle_memory_percent * 10)
    notices.unclaim_ended(IDLE)
    running = active_rentals()
    since = now - cfg.idle_window
    totals = samples.window_totals([r.id for r in running], since)
    early = {rid: _early_verdict(total, now, cfg.sample_every, util_pm, mem_pm)
             for rid, total in totals.items()}
    windows = samples.since_many([rid for rid, v in early.items() if v is ...], since)
    streaks = set(notices.rental_ids(IDLE))  # read once: the tick asks for every rental
    sent = 0
    for rental in running:
        verdict = early.get(rental.id)
        if verdict is ...:  # quiet enough to look at every sample: gaps, the window's start
            verdict = idle_verdict(windows.get(rental.id, []), now, cfg.idle_window,
                                   cfg.sample_every, util_pm, mem_pm)
        if verdict is False and rental.id in streaks:
            notices.unclaim(f"{IDLE}{rental.id}")  # busy again: the streak is over
        elif verdict and rental.id not in streaks and notices.claim(f"{IDLE}{rental.id}", now,
                                                                     rental):
            await _tell_idle(services, rental)
            sent += 1
    return sent


def cost_of(services: Services, rental: Rental, span: timedelta) -> int:
    """What ``span`` of this rental costs at the price it was bought for (cents)."""
    bought = services.config.prices.unit_duration(rental.unit) * rental.quantity
    return round(rental.price * (span / bought))


async def _tell_idle(services: Services, rental: Rental) -> None:
    user = rental.user
    lang = user.language
    window = services.config.lifecycle.idle_window
    text = t(lang, "life_idle", ref=rental.ref, gpus=rental.gpus,
             span=sch.span_text(lang, window), cost=format_money(cost_of(services, rental, window)))
    buttons = [[cb.STILL_USING.button(t(lang, "life_btn_still_using"), rental.id),
                cb.RELEASE.button(t(lang, "life_btn_release_now"), rental.id)]]
    await services.notifier.send(user.telegram_id, text, buttons)


def still_using(rental_id: int, user: User, now: datetime) -> str:
    """The student says an idle rental is in use: noted; no more reminders this streak."""
    rental = rentals.owned_by(rental_id, user)
    if rental is None:
        raise UserError("my_unknown")
    queries.audit("still_using", now, rental=rental, actor=user)
    return t(user.language, "life_still_using", ref=rental.ref)


def idle_rentals() -> list[Rental]:
    """Running rentals in an idle streak (for the admins)."""
    return rentals.active_among(notices.rental_ids(IDLE))


# --- numbers for the daily messages ---------------------------------------------------------

def gpu_hours(rental: Rental, since: datetime, now: datetime) -> float:
    """GPU-hours the rental held between ``since`` and ``now``, from its allocations."""
    total = timedelta()
    for allocated, released in samples.held_spans(rental):
        total += max(min(released or now, now) - max(allocated, since), timedelta())
    return total / HOUR


def average_util(rental: Rental, since: datetime) -> float | None:
    """Span-weighted average utilisation in percent since ``since``; None without samples."""
    return samples.average_util(rental, since)
