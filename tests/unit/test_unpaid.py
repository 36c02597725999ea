"""Reminders to students who owe: after the configured days, then weekly, never twice a day,
never once paid; the admins' digest lists who owes."""

from __future__ import annotations

from datetime import timedelta

from billing import ledger
from bot.clock import FrozenClock
from bot.services import Services
from bot.usecases import unpaid
from tests.fakes import RecordingNotifier
from tests.unit.test_lifecycle import START, STUDENT, student


async def remind(svc: Services, after: timedelta) -> int:
    assert isinstance(svc.clock, FrozenClock)
    svc.clock.set(START + after)
    return await unpaid.remind_unpaid(svc, START + after)


def reminders(svc: Services) -> int:
    assert isinstance(svc.notifier, RecordingNotifier)
    return len(svc.notifier.to(STUDENT, "Reminder "))


async def test_a_student_who_owes_is_reminded_after_three_days_then_weekly(
        svc: Services) -> None:
    ada = student()
    ledger.charge(ada, 12000, "R1", START)
    assert await remind(svc, timedelta(days=2, hours=23)) == 0
    assert await remind(svc, timedelta(days=3)) == 1
    assert await remind(svc, timedelta(days=3, hours=5)) == 0  # not twice a day
    assert await remind(svc, timedelta(days=9)) == 0  # the week is not over
    assert await remind(svc, timedelta(days=10)) == 1
    assert reminders(svc) == 2
    assert svc.notifier.to(STUDENT, "¥120.00")  # type: ignore[attr-defined]
    lines = unpaid.digest_lines("en", 10)
    assert len(lines) == 1 and "¥120.00" in lines[0] and "2×" in lines[0]


async def test_a_student_who_paid_is_not_reminded(svc: Services) -> None:
    ada = student()
    entry = ledger.charge(ada, 12000, "R1", START)
    ledger.pay_order(entry.id, START + timedelta(days=1), None)
    assert await remind(svc, timedelta(days=4)) == 0
    assert unpaid.digest_lines("en", 10) == []
