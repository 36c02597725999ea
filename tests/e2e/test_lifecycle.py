"""A 3-day rental's whole life on the rig, with the clock moved between ticks (no sleeping):
every reminder, expiry (container stopped, GPUs freed, ports kept), revival by Extend in the
chat onto other GPUs (commit and recreate: system changes survive), a second expiry, the
retention warnings, removal of the container and, on the announced day, of /workspace."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from models import queries
from models.states import State
from models.tables import Rental
from tests.botemu import BotMessage
from tests.e2e.harness import Harness, rent, workspace
from tests.e2e.sshcheck import credentials_of, ssh

pytestmark = [pytest.mark.rig, pytest.mark.e2e]

HOUR = timedelta(hours=1)


def every(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    while start <= end:
        yield start
        start += step


def marks(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every 6 hours, and every 29 minutes around the reminder marks and the expiry."""
    step = timedelta(minutes=29)
    yield from every(start, end - 25 * HOUR, 6 * HOUR)
    yield from every(end - 25 * HOUR, end - 23 * HOUR, step)
    yield from every(end - 4 * HOUR, end + step, step)


def kinds(messages: list[BotMessage]) -> list[str]:
    signs = ("⏰", "⌛", "⚠️", "🗑", "▶️")
    return [m.content.split(" ", 1)[0] for m in messages if m.content.startswith(signs)]


def container_state(h: Harness, rental: Rental) -> str:
    found = h.rig.engine("HPC1").client().containers.list(
        all=True, filters={"label": f"gpurent.rental={rental.id}"})
    return found[0].status if found else "gone"


async def advance(h: Harness, moments: Iterator[datetime]) -> None:
    for when in moments:
        h.clock.set(when)
        await h.tick()


async def extend_in_chat(h: Harness, student_id: int, ref: str) -> None:
    student = h.person(student_id)
    expired = await student.wait_message(predicate=lambda m: m.content.startswith("⌛")
                                         and ref in m.content)
    await student.send("/my")
    card = await student.wait_message(predicate=lambda m: ref in m.content
                                      and "⏱ Extend" in m.buttons(), after=expired)
    await student.press(card, "⏱ Extend")
    menu = await student.wait_message(predicate=lambda m: "+1 d" in " ".join(m.buttons())
                                      or "+1 day" in " ".join(m.buttons()), after=card)
    await student.press(menu, next(b for b in menu.buttons() if b.startswith("+1 d")))
    sure = await student.wait_message(predicate=lambda m: "✅ Yes, extend" in m.buttons(),
                                      after=menu)
    await student.press(sure, "✅ Yes, extend")
    await h.settle()


async def test_three_day_rental_lives_through_every_stage(harness: Harness) -> None:
    h = harness
    boss, _ = await h.admins()
    start = h.clock.now()
    rental = await rent(h, boss, 7001, unit="day", quantity=3)
    student = h.person(7001)
    creds = credentials_of(await student.wait_message(contains="ssh root@"))
    port, password = int(creds["port"]), creds["password"]
    await ssh(creds["address"], port, password,
              "echo thesis > /workspace/data.txt && echo installed > /opt/system-package")
    end1 = queries.from_db(Rental.get_by_id(rental.id).expires_at)
    assert end1 == start + timedelta(days=3)

    await advance(h, marks(start, end1))
    assert kinds(student.messages) == ["⏰", "⏰", "⏰", "⌛"]
    assert Rental.get_by_id(rental.id).state == State.EXPIRED.value
    assert container_state(h, rental) == "exited"
    assert queries.rental_gpus(rental) == []  # GPUs back in the pool
    assert queries.rental_ports(rental)[22] == port  # ports kept for the student's settings

    # Someone else takes GPU 0 meanwhile: revival must move to GPU 1, same host and ports.
    other = await rent(h, boss, 7002, unit="day", quantity=10)
    assert (other.host.name, queries.rental_gpus(other)) == ("HPC1", ["0"])
    h.clock.set(end1 + timedelta(days=1))
    await extend_in_chat(h, 7001, rental.ref)
    await student.wait_message(contains="is running again")
    revived = Rental.get_by_id(rental.id)
    assert revived.state == State.ACTIVE.value
    assert queries.rental_gpus(revived) == ["1"]
    out = await ssh(creds["address"], port, password,
                    "cat /workspace/data.txt /opt/system-package")
    assert out.split() == ["thesis", "installed"]
    # neither the password nor the Jupyter token in docker inspect of the container or of
    # the revival image (which holds the student's whole filesystem)
    token = creds["url"].rsplit("token=", 1)[1]
    client = h.rig.engine("HPC1").client()
    [box] = client.containers.list(filters={"label": f"gpurent.rental={rental.id}"})
    [image] = client.images.list(name=f"gpurent/r{rental.id}")
    shown = json.dumps(box.attrs) + json.dumps(image.attrs)
    assert password not in shown and token not in shown
    assert "JUPYTER_TOKEN=" not in json.dumps(box.attrs["Config"]["Env"] +
                                              (image.attrs["Config"]["Env"] or []))
    assert re.fullmatch(r"rev\d+-[0-9a-f]{12}", image.tags[0].rsplit(":", 1)[1])

    end2 = queries.from_db(revived.expires_at)
    assert end2 == end1 + timedelta(days=2)
    await advance(h, marks(h.clock.now(), end2))
    assert Rental.get_by_id(rental.id).state == State.EXPIRED.value
    assert container_state(h, rental) == "exited"

    removal = end2 + timedelta(days=7)
    await advance(h, iter([end2 + timedelta(days=4), removal - 12 * HOUR]))
    assert container_state(h, rental) == "exited"
    revival_images = h.rig.engine("HPC1").client().images.list(name=f"gpurent/r{rental.id}")
    assert len(revival_images) == 1  # the commit that moved it to GPU 1
    await advance(h, iter([removal + HOUR]))
    assert container_state(h, rental) == "gone"
    assert h.rig.engine("HPC1").client().images.list(name=f"gpurent/r{rental.id}") == []
    folder = workspace(h.rig, "HPC1", 7001)
    assert (folder / "data.txt").read_text() == "thesis\n"

    deletion = end2 + timedelta(days=30)
    await advance(h, iter([deletion - 8 * 24 * HOUR, deletion - 6 * 24 * HOUR,
                           deletion - 12 * HOUR]))
    assert (folder / "data.txt").exists()
    await advance(h, iter([deletion + HOUR]))
    assert list(folder.iterdir()) == []  # the helper sees only this folder: emptied, kept

    seen = kinds(student.messages)
    assert seen == ["⏰", "⏰", "⏰", "⌛", "▶️", "⏰", "⏰", "⌛", "⚠️", "⚠️", "🗑", "⚠️", "⚠️",
                    "🗑"], seen
    warnings = [m.content for m in student.messages if m.content.startswith("⚠️")]
    lab = h.config.tz
    assert removal.astimezone(lab).strftime("%Y-%m-%d %H:%M") in warnings[0]
    assert deletion.astimezone(lab).strftime("%Y-%m-%d %H:%M") in warnings[-1]
    assert Rental.get_by_id(rental.id).state == State.RELEASED.value
