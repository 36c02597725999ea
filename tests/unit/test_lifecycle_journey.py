"""A 3-day rental's whole life with an injected clock: every reminder, expiry, stop, revival
by extension, a second expiry, retention warnings and cleanup; /workspace survives until the
announced deletion. Then the same life with the bot restarted between ticks: nothing is sent
twice and nothing is lost."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import FrozenClock
from bot.jobs import run_tick
from bot.services import Services
from bot.usecases import extend
from models.db import close_database, open_database
from models.states import State
from models.tables import Rental
from tests.unit.test_lifecycle import (
    ROOT,
    START,
    STUDENT,
    FakeRuntime,
    RecordingNotifier,
    lifecycle_texts,
    make_services,
    rent,
    student,
)

STEP = timedelta(minutes=29)  # fine enough to meet every reminder mark
HOURS = timedelta(hours=1)


def every(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    while start <= end:
        yield start
        start += step


def until_expiry(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every 6 hours, and finely around the reminder marks and the expiry."""
    yield from every(start, end - 25 * HOURS, 6 * HOURS)
    yield from every(end - 25 * HOURS, end - 23 * HOURS, STEP)
    yield from every(end - 4 * HOURS, end + STEP, STEP)


def lab(when: datetime) -> str:
    return when.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


Pick = Callable[[int], Services]

EXPECTED = ["⏰", "⏰", "⏰", "⌛",  # 24 h, 3 h, 30 min, expired
            # revived by a 1-day extension: its 24 h mark had passed already
            "⏰", "⏰", "⌛",  # 3 h, 30 min, expired again
            "⚠️", "⚠️", "🗑",  # container: 3 days, 1 day, removed
            "⚠️", "⚠️", "🗑"]  # workspace: 7 days, 1 day, deleted


def _kind(text: str) -> str:
    return text.split(" ", 1)[0]


async def live_through(pick: Pick, clock: FrozenClock,
                       runtime: FakeRuntime) -> dict[str, datetime]:
    """Drive one rental through its life; ``pick(i)`` is the bot instance for tick i."""
    ticks = 0

    async def tick(when: datetime) -> None:
        nonlocal ticks
        clock.set(when)
        await run_tick(pick(ticks))
        await pick(ticks).idle()
        ticks += 1

    rental = await rent(pick(0))
    workspace = ("h1", f"{ROOT}/u{STUDENT}")
    end1 = START + timedelta(days=3)
    for when in until_expiry(START, end1):
        await tick(when)
    assert Rental.get_by_id(rental.id).state == State.EXPIRED.value
    clock.set(end1 + timedelta(days=1))
    await extend.apply(pick(ticks), rental.id, student(), "day", 1, clock.now())
    end2 = end1 + timedelta(days=2)
    for when in until_expiry(clock.now() + STEP, end2):
        await tick(when)
    removal = end2 + timedelta(days=7)
    for when in every(end2 + 6 * HOURS, removal + 6 * HOURS, 6 * HOURS):
        assert (rental.container_id in runtime.boxes) == (when <= removal), when
        await tick(when)
    deletion = end2 + timedelta(days=30)
    for when in every(removal + 12 * HOURS, deletion + 12 * HOURS, 12 * HOURS):
        assert (workspace in runtime.dirs) == (when <= deletion), when
        await tick(when)
    return {"end1": end1, "end2": end2, "removal": removal, "deletion": deletion}


async def test_a_three_day_rental_lives_through_every_stage(database: str) -> None:
    runtime = FakeRuntime()
    svc = make_services(runtime)
    assert isinstance(svc.clock, FrozenClock)
    marks = await live_through(lambda i: svc, svc.clock, runtime)
    texts = lifecycle_texts(svc)
    assert [_kind(t) for t in texts] == EXPECTED
    assert lab(marks["removal"]) in texts[-6] and lab(marks["removal"]) in texts[-5]
    assert lab(marks["deletion"]) in texts[-3] and lab(marks["deletion"]) in texts[-2]
    assert f"{ROOT}/u{STUDENT}" in texts[-2]
    assert Rental.get_by_id(1).state == State.RELEASED.value


async def test_restarting_between_ticks_sends_nothing_twice_and_loses_nothing(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restarts.db'}"
    open_database(url)
    clock, world, log = FrozenClock(START), FakeRuntime(), RecordingNotifier()
    bots = [make_services(world, clock), make_services(world, clock)]
    for bot in bots:
        bot.notifier = RecordingNotifier(sent=log.sent)  # one phone, two bot processes

    def pick(i: int) -> Services:
        close_database()  # the bot stops between any two ticks...
        open_database(url)  # ...and the other instance starts on the same database
        return bots[i % 2]

    try:
        await live_through(pick, clock, world)
    finally:
        close_database()
    bots[0].notifier = log
    assert [_kind(t) for t in lifecycle_texts(bots[0])] == EXPECTED
    sent = [(s.chat_id, s.text) for s in log.sent]
    assert _dupes(sent) == []


def _dupes(sent: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [s for i, s in enumerate(sent) if s in sent[:i]]
