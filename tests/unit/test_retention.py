"""Retention: stopped containers kept 7 days, workspaces 30 days after the last rental on a
host, each warned before, with the exact time; never deleted without the last warning."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import FrozenClock
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import schedule
from bot.usecases.release import release
from bot.usecases.retention import Schedule
from models import locks, queries
from models.states import State
from models.tables import AuditEvent, Rental
from tests.unit.test_lifecycle import (
    ROOT,
    START,
    STUDENT,
    FakeRuntime,
    expires,
    make_services,
    rent,
    student,
    tick_at,
)

DAY = timedelta(days=1)
WORKSPACE = ("h1", f"{ROOT}/u{STUDENT}")
PYTORCH = "nvcr.io/nvidia/pytorch:20.12-py3"




def warnings(svc: Services) -> list[str]:
    return [s.text for s in svc.notifier.to(STUDENT, "⚠️")]


async def expired(svc: Services) -> tuple[Rental, datetime]:
    rental = await rent(svc)
    end = expires(rental)
    await tick_at(svc, end)
    return Rental.get_by_id(rental.id), end


async def released(svc: Services) -> tuple[Rental, datetime]:
    """A rental the student released early: its workspace's retention starts now."""
    rental = await rent(svc)
    when = START + timedelta(hours=5)
    svc.clock.set(when)  # type: ignore[attr-defined]
    await release(svc, rental.id, student(), when)
    return rental, when


# --- stopped containers -------------------------------------------------------------------

async def test_a_stopped_container_is_warned_3_and_1_days_before_removal_then_removed(
        svc: Services, runtime: FakeRuntime) -> None:
    rental, end = await expired(svc)
    ports = queries.rental_ports(rental)
    for day in (1, 4, 4, 6, 6.5):
        await tick_at(svc, end + DAY * day)
    assert [w.split(" in ")[1].split(",")[0] for w in warnings(svc)] == ["3 d", "1 d"]
    assert all("2026-03-12 09:00" in w and "/workspace" in w for w in warnings(svc))
    assert rental.container_id in runtime.boxes
    await tick_at(svc, end + 7 * DAY)
    after = Rental.get_by_id(rental.id)
    assert after.state == State.RELEASED.value and rental.container_id not in runtime.boxes
    assert queries.from_db(after.ended_at) == end and queries.rental_ports(after) == {}
    assert ports and len(svc.notifier.to(STUDENT, "🗑")) == 1


async def test_a_final_warning_sent_late_still_gives_the_promised_notice(
        svc: Services, runtime: FakeRuntime) -> None:
    rental, end = await expired(svc)
    late = end + 7 * DAY - timedelta(hours=4)  # the bot was down for days
    await tick_at(svc, late)
    [only] = warnings(svc)
    assert "in 1 d" in only and "2026-03-13 05:00" in only  # late + 1 day, lab time
    await tick_at(svc, end + 7 * DAY + timedelta(hours=1))
    assert rental.container_id in runtime.boxes
    await tick_at(svc, late + DAY)
    assert rental.container_id not in runtime.boxes


async def test_a_container_being_revived_is_not_removed(svc: Services,
                                                        runtime: FakeRuntime) -> None:
    rental, end = await expired(svc)
    await tick_at(svc, end + 6 * DAY)
    assert locks.take(rental.id, end + 7 * DAY)
    await tick_at(svc, end + 7 * DAY)
    assert rental.container_id in runtime.boxes
    locks.give_back(rental.id)
    await tick_at(svc, end + 7 * DAY + timedelta(minutes=1))
    assert rental.container_id not in runtime.boxes


async def test_a_removal_that_fails_is_retried_and_counted_once(
        svc: Services, runtime: FakeRuntime) -> None:
    rental, end = await expired(svc)
    await tick_at(svc, end + 6 * DAY)
    runtime.fail["remove"] = RuntimeFaultError("unreachable", "host down", transient=True)
    for minutes in (0, 1, 2):
        await tick_at(svc, end + 7 * DAY + timedelta(minutes=minutes))
    assert Rental.get_by_id(rental.id).state == State.EXPIRED.value
    assert AuditEvent.select().where(AuditEvent.kind == "remove_failed").count() == 1
    del runtime.fail["remove"]
    await tick_at(svc, end + 7 * DAY + timedelta(minutes=3))
    assert Rental.get_by_id(rental.id).state == State.RELEASED.value


# --- workspaces ---------------------------------------------------------------------------

async def test_a_workspace_is_deleted_30_days_after_the_last_rental_with_warnings(
        svc: Services, runtime: FakeRuntime) -> None:
    rental, ended = await released(svc)
    for day in (1, 23, 23, 29, 29.9):
        await tick_at(svc, ended + DAY * day)
        assert WORKSPACE in runtime.dirs
    texts = warnings(svc)
    assert len(texts) == 2 and all(f"{ROOT}/u{STUDENT}" in t for t in texts)
    assert all("2026-04-01 14:00" in t and "deleted" in t for t in texts)
    await tick_at(svc, ended + 30 * DAY)
    assert WORKSPACE not in runtime.dirs
    [call] = runtime.named("remove_dir")
    assert call[1:] == ("h1", rental.image_ref, ROOT, f"u{STUDENT}")
    await tick_at(svc, ended + 31 * DAY)
    assert len(svc.notifier.to(STUDENT, "🗑")) == 1 and len(runtime.named("remove_dir")) == 1


async def test_a_workspace_in_use_again_is_kept_and_its_clock_restarts(
        svc: Services, runtime: FakeRuntime) -> None:
    _, ended = await released(svc)
    await tick_at(svc, ended + 25 * DAY)
    again = await rent(svc, gpus=1, unit="day", quantity=10)
    await tick_at(svc, ended + 31 * DAY)
    assert WORKSPACE in runtime.dirs and runtime.named("remove_dir") == []
    svc.clock.set(ended + 32 * DAY)  # type: ignore[attr-defined]
    await release(svc, again.id, student(), ended + 32 * DAY)
    await tick_at(svc, ended + 61 * DAY)
    assert WORKSPACE in runtime.dirs
    await tick_at(svc, ended + 62 * DAY)
    assert WORKSPACE not in runtime.dirs


async def test_an_archive_dir_moves_the_workspace_instead(database: str) -> None:
    runtime = FakeRuntime()
    svc = make_services(runtime, archive_dir="/archive")
    _, ended = await released(svc)
    for day in (23, 29, 30):
        await tick_at(svc, ended + DAY * day)
    assert "/archive" in warnings(svc)[0]
    [call] = runtime.named("move_dir")
    assert call[1:] == ("h1", "nvcr.io/nvidia/pytorch:20.12-py3", ROOT, f"u{STUDENT}",
                        "/archive", f"u{STUDENT}-20260401-1400")
    assert ("h1", f"/archive/u{STUDENT}-20260401-1400") in runtime.dirs
    assert len(svc.notifier.to(STUDENT, "📦")) == 1


async def test_workspace_retention_0_keeps_workspaces_forever(database: str) -> None:
    runtime = FakeRuntime()
    svc = make_services(runtime, workspace_retention_days=0)
    _, ended = await released(svc)
    await tick_at(svc, ended + 400 * DAY)
    assert WORKSPACE in runtime.dirs and warnings(svc) == []


HELPER = f"docker.io/library/busybox@sha256:{'c' * 64}"


async def test_the_helper_is_the_admins_pinned_image_never_the_students(
        database: str) -> None:
    runtime = FakeRuntime()
    svc = make_services(runtime, helper_image=HELPER)
    rental, ended = await released(svc)
    runtime.images = {("h1", HELPER), ("h1", rental.image_ref)}
    for day in (23, 29, 30):
        await tick_at(svc, ended + DAY * day)
    assert [c[2] for c in runtime.named("remove_dir")] == [HELPER]
    assert WORKSPACE not in runtime.dirs


async def test_a_workspace_that_cannot_be_deleted_is_retried_and_kept_meanwhile(
        svc: Services, runtime: FakeRuntime) -> None:
    _, ended = await released(svc)
    runtime.images = set()
    for day in (23, 29):
        await tick_at(svc, ended + DAY * day)
    for minutes in (0, 1, 2):
        await tick_at(svc, ended + 30 * DAY + timedelta(minutes=minutes))
    assert WORKSPACE in runtime.dirs and svc.notifier.to(STUDENT, "🗑") == []
    assert AuditEvent.select().where(AuditEvent.kind == "workspace_failed").count() == 1
    runtime.images = {("h1", PYTORCH)}  # no helper_image set: the catalogue's first
    await tick_at(svc, ended + 30 * DAY + timedelta(minutes=3))
    assert WORKSPACE not in runtime.dirs


# --- the timing rules ---------------------------------------------------------------------

def test_the_last_warning_sent_on_time_announces_the_due_time() -> None:
    due = START + 30 * DAY
    assert schedule.announced_time(due, due - DAY, DAY) == due
    assert schedule.announced_time(due, due - DAY / 2, DAY) == due
    assert schedule.announced_time(due, due - timedelta(hours=2), DAY) == due + DAY - \
        timedelta(hours=2)


def test_the_warning_due_is_the_one_still_relevant(database: str) -> None:
    plan = Schedule("ws:1:1:0", START + 30 * DAY, (7 * DAY, DAY))
    assert plan.warning_due(START) is None
    assert plan.warning_due(START + 24 * DAY) == ("ws:1:1:0:w604800", START + 30 * DAY)
    key, when = plan.warning_due(START + 29 * DAY + timedelta(hours=20)) or ("", START)
    assert key == "ws:1:1:0:w86400" and when == START + 30 * DAY + timedelta(hours=20)
    assert plan.deletion_time() is None  # nothing was sent yet


def test_without_warnings_deletion_is_due_on_time() -> None:
    assert Schedule("x", START, ()).deletion_time() == START


async def test_restarting_does_not_repeat_warnings(tmp_path: object, database: str) -> None:
    runtime = FakeRuntime()
    first = make_services(runtime)
    _, end = await expired(first)
    clock = first.clock
    assert isinstance(clock, FrozenClock)
    second = make_services(runtime, clock)
    for n, day in enumerate((4, 4, 6, 6, 7, 7)):
        await tick_at(first if n % 2 else second, end + DAY * day)
    assert len(warnings(first)) + len(warnings(second)) == 2
    assert len(runtime.named("remove")) == 1
