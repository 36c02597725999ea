"""Reminders to students with unpaid charges (``[billing] collect = "after"``): the first
``unpaid_reminder_days`` after their oldest unpaid charge, then weekly, never more than once a
day (a claim per student and week, and one per day), with what they owe and how to pay. The
admins' digest lists who owes and how often they were reminded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from billing import ledger
from billing.money import format_money
from bot.i18n import esc, t
from bot.services import Services
from bot.usecases import schedule as sch
from bot.usecases.users import display_name
from models import notices
from models.tables import User

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)
PREFIX = "unpaid:"


@dataclass(frozen=True)
class Debt:
    user: User
    owed: int  # cents
    since: datetime  # the oldest unpaid charge
    reminded: int  # reminders sent so far


def debts() -> list[Debt]:
    found = []
    for user, owed in ledger.debtors():
        open_charges = ledger.open_charges(user)
        if not open_charges:
            continue
        since = min(o.created_at for o in open_charges)
        found.append(Debt(user, owed, since, notices.count_prefixed(f"{PREFIX}{user.id}:")))
    return found


def due_round(services: Services, debt: Debt, now: datetime) -> int | None:
    """Which reminder is due now (0 the first, then one a week), or None when none is."""
    first = services.config.billing.unpaid_reminder_days
    age = now - debt.since
    if first <= 0 or age < timedelta(days=first):
        return None
    return int((age - timedelta(days=first)) // WEEK)


async def remind_unpaid(services: Services, now: datetime) -> int:
    """One reminder per due round and student; never two on one day."""
    if services.config.billing.collect != "after":
        return 0
    sent = 0
    for debt in debts():
        due = due_round(services, debt, now)
        user = debt.user
        if due is None or user.blocked:
            continue
        day = sch.lab_time(services, now)[:10]
        if notices.claimed(f"unpaid-day:{user.id}:{day}"):
            continue
        if not notices.claim(f"{PREFIX}{user.id}:{due}", now):
            continue
        notices.claim(f"unpaid-day:{user.id}:{day}", now)
        await services.notifier.send(user.telegram_id, t(
            user.language, "bill_unpaid_reminder", n=due + 1, owed=format_money(debt.owed),
            since=sch.lab_time(services, debt.since)[:10]))
        sent += 1
    return sent


def digest_lines(lang: str, limit: int) -> list[str]:
    """For the admins' digest: who owes, how much, since when, reminded how often."""
    return [t(lang, "life_digest_unpaid_line", who=esc(display_name(d.user)),
              owed=format_money(d.owed), since=d.since.date().isoformat(), n=d.reminded)
            for d in debts()[:limit]]
