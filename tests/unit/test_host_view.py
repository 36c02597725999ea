"""The admins' /hosts on the fake runtime: the table shows the engine, each GPU's holder and
live numbers, and the chart is a PNG of the promised size with the samples on it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from bot.errors import UserError
from bot.ports import GpuReading, RuntimeFaultError
from bot.services import Services
from bot.usecases import host_view
from models import host_charts, queries
from models import usage as samples
from models.tables import User
from tests.unit.test_lifecycle import ADMIN, OTHER, START, FakeRuntime, rent, student

GIB = 1 << 30


def admin() -> User:
    return queries.upsert_user(ADMIN, "Boss", "", "boss", "en", True, START)


async def test_the_table_shows_engine_holder_and_live_numbers(svc: Services,
                                                             runtime: FakeRuntime) -> None:
    rental = await rent(svc, gpus=2)
    runtime.usage["h1"] = [GpuReading("0", 87, 30 * GIB, 80 * GIB, 71),
                           GpuReading("1", 3, 1 * GIB, 80 * GIB, None)]
    found = await host_view.report(svc, admin(), svc.clock.now())
    assert "Docker 27.0-fake" in found.text and "2/4 GPUs free" in found.text
    assert f"{rental.ref} Ada" in found.text and "87%" in found.text and "30/80G" in found.text
    assert found.text.count("free") >= 2
    rows = {line.split()[0]: line.split() for line in found.text.splitlines()
            if line[:1].isdigit()}
    assert rows["0"][4] == "71C"  # the temperature column
    assert rows["1"][4] == "-"  # a GPU that reports none


async def test_a_host_that_does_not_answer_is_shown_down(svc: Services,
                                                        runtime: FakeRuntime) -> None:
    runtime.fail["engine_version"] = RuntimeFaultError("unreachable", "no route", True)
    found = await host_view.report(svc, admin(), svc.clock.now())
    assert "UNREACHABLE" in found.text


async def test_the_chart_is_a_png_of_the_promised_size(svc: Services) -> None:
    rental = await rent(svc, gpus=1)
    now = svc.clock.now()
    for minutes in range(0, 120, 10):
        samples.record(rental, now - timedelta(minutes=minutes), 600, 500, 100)
    series = host_charts.util_series(now - timedelta(hours=24), now)
    assert series[("h1", "0")] and all(u == 50.0 for _, u in series[("h1", "0")])
    found = await host_view.report(svc, admin(), now)
    image = Image.open(io.BytesIO(found.chart))
    assert image.format == "PNG"
    assert image.size == (host_view.CHART_WIDTH, host_view.HOST_HEIGHT)


async def test_a_student_gets_no_host_report(svc: Services) -> None:
    with pytest.raises(UserError, match="not_admin"):
        await host_view.report(svc, student(OTHER), svc.clock.now())
