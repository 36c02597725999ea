"""What the time-driven use cases share: once-only claims (kept in :mod:`models.notices`,
named here too for the callers that reach them through this module) and the timing of
reminders and warnings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot import callbacks as cb
from bot.i18n import t
from bot.ports import Button, RuntimeFaultError
from bot.services import Services
from models import queries
from models.notices import claim, claimed_at, unclaim  # noqa: F401 - re-exported, see above
from models.tables import Rental

logger = logging.getLogger(__name__)


def host_name(rental: Rental) -> str:
    host = rental.host
    if host is None:
        raise ValueError(f"{rental.ref} was never placed on a host")
    return str(host.name)


def epoch(when: datetime) -> int:
    return int(when.timestamp())


def seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def relevant_offset(remaining: timedelta, offsets: Sequence[timedelta]) -> timedelta | None:
    """The one warning that fits now: the smallest offset already reached. After downtime this
    skips the stale ones (no "24 h left" when 10 minutes remain)."""
    reached = [o for o in offsets if remaining <= o]
    return min(reached) if reached else None


def announced_time(due: datetime, final_sent: datetime, final: timedelta) -> datetime:
    """When the last warning (sent at ``final_sent``) says the deletion happens. Normally the
    due time; if that warning went out late (the bot was down), the student still gets most of
    the promised notice, so the deletion moves to ``final_sent + final``."""
    return due if due - final_sent >= final / 2 else final_sent + final


def lab_time(services: Services, when: datetime) -> str:
    return services.config.lab_time(when)


def span_text(lang: str, delta: timedelta) -> str:
    """3 days 4 hours -> "3 d 4 h" / "3天4小时"; under an hour in minutes."""
    minutes = max(0, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [("d", days), ("h", hours)] if days else [("h", hours), ("min", mins)]
    shown = [(unit, n) for unit, n in parts if n] or [("min", 0)]
    return " ".join(t(lang, f"life_span_{unit}", n=n) for unit, n in shown)


def extend_button(lang: str, rental: Rental) -> Button:
    return cb.EXTEND.button(t(lang, "life_btn_extend"), rental.id)


def note_failure(kind: str, key: str, fault: RuntimeFaultError, now: datetime,
                 rental: Rental | None = None) -> None:
    """Log a failure the tick will retry; audit it once per key so the digest can count it."""
    logger.warning("%s (%s): %s", kind, key, fault.message)
    if claim(f"fail:{key}", now, rental):
        queries.audit(kind, now, rental=rental, detail=fault.message[:500])
