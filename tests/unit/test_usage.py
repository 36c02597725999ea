"""GPU usage: samples from a fake probe series, one idle reminder per streak, compaction,
the daily summary and the admins' digest."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot import callbacks as cb
from bot.clock import FrozenClock
from bot.errors import UserError
from bot.ports import GpuReading, RuntimeFaultError
from bot.services import Services
from bot.usecases import digest, usage
from models import queries
from models.tables import AuditEvent, GpuSample, Rental, User
from tests.unit.test_lifecycle import (
    ADMIN,
    START,
    STUDENT,
    FakeRuntime,
    make_services,
    rent,
    student,
    tick_at,
)

FIVE = timedelta(minutes=5)
GIB = 1 << 30


def readings(util: int, mem_gib: int = 1) -> list[GpuReading]:
    return [GpuReading(str(i), util, mem_gib * GIB, 80 * GIB) for i in range(4)]


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def svc(database: str, runtime: FakeRuntime) -> Services:
    return make_services(runtime, daily_summary=False, admin_digest=False)


async def run_series(svc: Services, runtime: FakeRuntime, start: datetime,
                     series: list[tuple[timedelta, int]]) -> datetime:
    """Tick every 5 minutes while the GPUs report each (how long, utilisation %) in turn."""
    when = start
    for length, util in series:
        runtime.usage["h1"] = readings(util)
        end = when + length
        while when < end:
            await tick_at(svc, when)
            when += FIVE
    return when


def idle_notes(svc: Services) -> list[str]:
    return [s.text for s in svc.notifier.to(STUDENT, "💤")]


async def test_an_idle_series_triggers_exactly_one_reminder_per_streak(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    when = await run_series(svc, runtime, START, [(timedelta(hours=5), 1)])
    [note] = svc.notifier.to(STUDENT, "💤")
    assert "2 GPU(s) have been idle for 2 h (¥6.25 meanwhile)" in note.text
    assert note.data == [cb.STILL_USING.build(rental.id), cb.RELEASE.build(rental.id)]
    when = await run_series(svc, runtime, when, [(timedelta(hours=1), 80)])
    assert len(idle_notes(svc)) == 1
    await run_series(svc, runtime, when, [(timedelta(hours=3), 0)])
    assert len(idle_notes(svc)) == 2


async def test_a_short_spike_does_not_split_an_idle_streak(svc: Services,
                                                           runtime: FakeRuntime) -> None:
    await rent(svc)
    await run_series(svc, runtime, START, [(timedelta(hours=3), 1), (FIVE, 50),
                                           (timedelta(hours=3), 1)])
    assert len(idle_notes(svc)) == 1


async def test_gpus_without_readings_never_count_as_idle(svc: Services,
                                                         runtime: FakeRuntime) -> None:
    await rent(svc)
    for hours in range(6):
        await tick_at(svc, START + timedelta(hours=hours))  # NoGpuProbe: the host reports []
    assert GpuSample.select().count() == 0 and idle_notes(svc) == []


async def test_restarts_between_ticks_still_send_one_idle_reminder(
        svc: Services, runtime: FakeRuntime) -> None:
    await rent(svc)
    clock = svc.clock
    assert isinstance(clock, FrozenClock)
    other = make_services(runtime, clock, daily_summary=False, admin_digest=False)
    runtime.usage["h1"] = readings(0)
    for n in range(60):
        await tick_at(other if n % 2 else svc, START + FIVE * n)
    assert len(idle_notes(svc)) + len([s for s in other.notifier.sent if "💤" in s.text]) == 1


def test_idle_needs_the_whole_window_without_gaps() -> None:
    now, step, window = START, FIVE, timedelta(hours=2)

    def series(minutes: list[int], util: int = 10) -> list[tuple[datetime, int, int]]:
        return [(now - timedelta(minutes=m), util, 10) for m in minutes]

    full = list(range(0, 120, 5))
    assert usage.idle_verdict(series(full), now, window, step, 50, 100) is True
    assert usage.idle_verdict(series(full[:12]), now, window, step, 50, 100) is None
    gap = [m for m in full if not 40 <= m <= 70]
    assert usage.idle_verdict(series(gap), now, window, step, 50, 100) is None
    assert usage.idle_verdict(series(full, util=400), now, window, step, 50, 100) is False
    assert usage.idle_verdict(series(full[:3], util=400), now, window, step, 50, 100) is False
    assert usage.idle_verdict([], now, window, step, 50, 100) is None


async def test_old_samples_are_merged_hourly_and_pruned(svc: Services) -> None:
    rental = await rent(svc)
    now = START + timedelta(days=100)
    for minutes in range(0, 60, 5):  # one hour, 4 days ago: raw samples, merged into one
        at = START + timedelta(days=96, minutes=minutes)
        GpuSample.create(rental=rental, at=queries.to_db(at), span_s=300, util_pm=minutes * 10,
                         mem_pm=100)
    GpuSample.create(rental=rental, at=queries.to_db(now - timedelta(hours=1)), span_s=300,
                     util_pm=0, mem_pm=0)  # recent: kept as it is
    GpuSample.create(rental=rental, at=queries.to_db(START), span_s=3600, util_pm=0, mem_pm=0,
                     hourly=True)  # 100 days old: pruned
    assert usage.compact(svc, now) == 12
    rows = list(GpuSample.select().order_by(GpuSample.at))
    assert [(r.hourly, r.span_s, r.util_pm) for r in rows] == [(True, 3600, 275),
                                                               (False, 300, 0)]


async def test_the_daily_summary_goes_once_a_day_at_nine_lab_time(database: str,
                                                                  runtime: FakeRuntime) -> None:
    svc = make_services(runtime, admin_digest=False)
    await rent(svc)
    runtime.usage["h1"] = readings(40)
    await tick_at(svc, START)  # 09:00 lab time
    await tick_at(svc, START + timedelta(hours=23, minutes=59))  # 08:59 the next day
    assert len(svc.notifier.to(STUDENT, "☀️")) == 1
    await tick_at(svc, START + timedelta(days=1))
    await tick_at(svc, START + timedelta(days=1, minutes=5))
    summaries = svc.notifier.to(STUDENT, "☀️")
    assert len(summaries) == 2
    assert "48.0 GPU-hours" in summaries[1].text and "average utilisation 40%" in summaries[1].text
    assert "Time left: 2 d" in summaries[1].text


async def test_the_admin_digest_lists_occupancy_queue_idle_unpaid_and_failures(
        database: str, runtime: FakeRuntime) -> None:
    svc = make_services(runtime, daily_summary=False)
    rental = await rent(svc)
    usage_key = f"idle:{rental.id}"
    from bot.usecases.schedule import claim

    claim(usage_key, START, rental)
    queries.audit("stop_failed", START, rental=rental, detail="host down")
    await tick_at(svc, START - timedelta(minutes=1))  # 08:59: not yet
    assert svc.notifier.to(ADMIN, "📋") == []
    await tick_at(svc, START)
    await tick_at(svc, START + timedelta(hours=1))
    [text] = [s.text for s in svc.notifier.to(ADMIN, "📋")]
    assert "h1: 2/4 GPUs rented" in text and "Waiting for approval: 0" in text
    assert f"{rental.ref} · Ada (@ada) · 2 GPU(s) on h1" in text
    assert "Unpaid: ¥0.00" in text and "Failures in the last 24 h: 1" in text
    assert "stop_failed: host down" in text


async def test_still_using_is_noted_for_the_owner_only(svc: Services) -> None:
    rental = await rent(svc)
    assert "stays as it is" in usage.still_using(rental.id, student(), START)
    assert AuditEvent.select().where(AuditEvent.kind == "still_using").count() == 1
    stranger = queries.upsert_user(4242, "Eve", "", "", "en", False, START)
    with pytest.raises(UserError):
        usage.still_using(rental.id, stranger, START)


async def test_gpu_hours_follow_the_allocations(svc: Services) -> None:
    rental = await rent(svc)
    assert usage.gpu_hours(rental, START, START + timedelta(hours=3)) == 6.0
    assert digest.summary_text(svc, User.get(User.telegram_id == STUDENT),
                               [Rental.get_by_id(rental.id)], START).count("R1") == 1


def test_docker_runtime_reads_the_local_host_through_nvml_and_others_through_docker() -> None:
    import asyncio

    from bot.config import HostConfig
    from docker_ops.gpus import GpuInfo, GpuProbeError
    from docker_ops.runtime import DockerRuntime

    class SeriesProbe:
        def __init__(self) -> None:
            self.values = [7, 95]

        def available(self) -> bool:
            return True

        def read(self) -> list[GpuInfo]:
            if not self.values:
                raise GpuProbeError("NVML stopped answering")
            util = self.values.pop(0)
            return [GpuInfo("0", "H200", "u", 100, 10, util, 30, 100.0)]

    local = HostConfig(name="local", docker_url="unix:///var/run/docker.sock")
    remote = HostConfig(name="far", docker_url="tcp://127.0.0.1:9")  # nothing listens
    rt = DockerRuntime([local, remote], probe=SeriesProbe())
    first = asyncio.run(rt.gpu_usage("local"))
    assert first == [GpuReading("0", 7, 10, 100, 30)]
    assert asyncio.run(rt.gpu_usage("local"))[0].utilization == 95
    assert asyncio.run(rt.gpu_usage("local")) == []  # the probe failed: unknown
    with pytest.raises(RuntimeFaultError) as far:  # a remote host is asked through Docker
        asyncio.run(rt.gpu_usage("far"))
    assert far.value.kind == "unreachable"
    rt.close()
