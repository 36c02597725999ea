"""Self-healing on the rig: a container killed behind the bot's back is noticed within
seconds and started again (same password); the reconcile puts right a removed container, a
stopped one and one started by hand with our labels."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from bot.usecases.reconcile import reconcile
from models.tables import GpuAllocation, Rental
from tests.e2e.harness import Harness, approve_next, rent, request_rental
from tests.e2e.sshcheck import credentials_of, ssh

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


def boxes(h: Harness, host: str, label: str) -> list[object]:
    return list(h.rig.engine(host).client().containers.list(all=True,
                                                            filters={"label": label}))


async def until(check: object, seconds: float = 30) -> None:
    for _ in range(int(seconds * 10)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def status(h: Harness, rental: Rental) -> str:
    found = boxes(h, rental.host.name, f"gpurent.rental={rental.id}")
    return found[0].status if found else "gone"  # type: ignore[attr-defined]


async def test_a_killed_container_is_noticed_and_started_again(harness: Harness) -> None:
    h = harness
    admin, _ = await h.admins()
    rental = await rent(h, admin, 3101)
    student = h.person(3101)
    creds = credentials_of(await student.wait_message(contains="Password"))
    found = boxes(h, rental.host.name, f"gpurent.rental={rental.id}")
    found[0].kill()  # type: ignore[attr-defined]
    told = await student.wait_message(contains="stopped", timeout=20)
    assert "SIGKILL" in told.text
    await h.settle()
    await until(lambda: status(h, rental) == "running")
    out = await ssh(creds["address"], int(creds["port"]), creds["password"], "echo back")
    assert out.strip() == "back"


async def test_reconcile_puts_each_difference_right(harness: Harness) -> None:
    h = harness
    admin, _ = await h.admins()
    gone = await rent(h, admin, 3102)
    stopped = await rent(h, admin, 3103)
    first = await h.person(3102).wait_message(contains="Password")
    host = gone.host.name
    client = h.rig.engine(host).client()
    image = client.containers.get(gone.container_id).image
    stray = client.containers.run(image, ["sleep", "600"], detach=True,
                                  labels={"gpurent.rental": "99999"})
    client.containers.get(gone.container_id).remove(force=True)
    client.containers.get(stopped.container_id).stop(timeout=2)
    await reconcile(h.services, h.clock.now())
    await h.settle()
    await until(lambda: status(h, stopped) == "running")
    await until(lambda: Rental.get_by_id(gone.id).container_id != gone.container_id
                and status(h, Rental.get_by_id(gone.id)) == "running")
    assert boxes(h, host, "gpurent.rental=99999") == []
    assert stray.id not in {c.id for c in client.containers.list(all=True)}
    new = await h.person(3102).wait_message(contains="Password", after=first, timeout=30)
    creds = credentials_of(new)
    out = await ssh(creds["address"], int(creds["port"]), creds["password"], "ls -d /workspace")
    assert out.strip() == "/workspace"


async def test_an_engine_that_goes_away_is_marked_down_once_and_back_when_it_answers(
        harness: Harness) -> None:
    h = harness
    admin, _ = await h.admins()
    rental = await rent(h, admin, 3104)
    student = h.person(3104)
    engine = h.rig.engine(rental.host.name)
    engine.stop_daemon()
    try:
        await h.tick()
        await h.tick()  # a second tick tells nobody again
        await h.settle()
        downs = [m for m in admin.messages if "does not answer" in m.content]
        assert len(downs) == 1 and rental.host.name in downs[0].content
        assert len([m for m in student.messages if "cannot be reached" in m.content]) == 1
        assert Rental.get_by_id(rental.id).state == "active"  # nothing lost
    finally:
        engine.start_daemon()
    await h.tick()
    await h.settle()
    assert any("answers again" in m.content for m in admin.messages)
    assert any("reachable again" in m.content for m in student.messages)


async def test_telegram_away_when_a_rental_becomes_ready_delays_its_credentials_only(
        harness: Harness) -> None:
    h = harness
    admin, _ = await h.admins()
    student = await h.user(3105, "S3105", "en")
    submitted = await request_rental(student)
    found = re.search(r"R\d+", submitted.text)
    assert found
    rental_id = int(found.group(0)[1:])
    await approve_next(admin, found.group(0))
    await until(lambda: Rental.get_by_id(rental_id).state != "pending")
    h.emu.outage = True  # before the container answers: the credentials cannot go out
    try:
        await until(lambda: Rental.get_by_id(rental_id).state == "active", 60)
        await until(lambda: Rental.get_by_id(rental_id).credentials_due, 30)
    finally:
        h.emu.outage = False
    assert h.emu.outage_calls > 0
    assert not [m for m in student.messages if "Password" in m.content]
    await h.tick()  # Telegram answers again: a fresh password goes out, once
    await h.tick()
    await h.settle()
    creds = [m for m in student.messages if "Password" in m.content]
    assert len(creds) == 1
    where = re.search(r"ssh root@([\d.]+) -p (\d+)", creds[0].text)
    password = re.search(r"Password:\s*(\S+)", creds[0].text)
    assert where and password, creds[0].text
    out = await ssh(where.group(1), int(where.group(2)), password.group(1), "echo ok")
    assert out.strip() == "ok"
    assert "jupyter server list" in creds[0].text  # the token was never written down
    assert not Rental.get_by_id(rental_id).credentials_due


async def test_an_engine_that_dies_while_a_rental_provisions_loses_nothing(
        harness: Harness) -> None:
    h = harness
    admin, _ = await h.admins()
    student = await h.user(3106, "S3106", "en")
    for engine in h.rig.engines:
        engine.slow_gpu_hook(10)  # the container exists before it can run
    submitted = await request_rental(student)
    found = re.search(r"R\d+", submitted.text)
    assert found
    rental_id = int(found.group(0)[1:])
    await approve_next(admin, found.group(0))
    where = [e for e in h.rig.engines if boxes_of(e, rental_id)]
    for _ in range(150):
        where = [e for e in h.rig.engines if boxes_of(e, rental_id)]
        if where:
            break
        await asyncio.sleep(0.1)
    assert where, "the container was never created"
    dying = where[0]
    other = next(e for e in h.rig.engines if e is not dying)
    other.slow_gpu_hook(0)
    dying.stop_daemon()
    try:
        await h.settle()
        await until(lambda: Rental.get_by_id(rental_id).state in ("queued", "active"), 60)
        await h.tick()  # the waitlist places it on the engine that answers
        await h.settle()
        await until(lambda: Rental.get_by_id(rental_id).state == "active", 60)
        assert Rental.get_by_id(rental_id).host.name == other.name
    finally:
        dying.slow_gpu_hook(0)
        dying.start_daemon()
    h.clock.advance(timedelta(minutes=6))  # the next reconcile is due
    await h.tick()
    await h.settle()
    await until(lambda: not boxes_of(dying, rental_id), 30)  # the half-made one is gone
    assert len(boxes_of(other, rental_id)) == 1
    live = GpuAllocation.select().where(GpuAllocation.released_at.is_null())
    assert sorted(a.rental.id for a in live) == [rental_id]
    assert len([m for m in student.messages if "Password" in m.content]) == 1
    assert len([m for m in admin.messages if "does not answer" in m.content]) == 1


def boxes_of(engine: object, rental_id: int) -> list[object]:
    return list(engine.client().containers.list(  # type: ignore[attr-defined]
        all=True, filters={"label": f"gpurent.rental={rental_id}"}))
