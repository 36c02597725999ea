"""Provisioning of different rentals runs side by side: one whose image never becomes ready
does not hold up a healthy one, and the tick does not wait for either."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.usecases import waitlist
from models import queries
from models.states import State
from models.tables import Rental
from tests.unit.test_lifecycle import (
    OTHER,
    START,
    STUDENT,
    FakeRuntime,
    make_services,
    student,
)


@dataclass
class SlowRuntime(FakeRuntime):
    """``wait_ready`` for the first container hangs until ``release`` is set."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    first_port: int | None = None

    async def wait_ready(self, host: str, address: str, ssh_port: int,
                         jupyter_port: int | None, timeout: float) -> None:
        await super().wait_ready(host, address, ssh_port, jupyter_port, timeout)
        if self.first_port is None:
            self.first_port = ssh_port
        if ssh_port == self.first_port:
            await self.release.wait()


def queued(telegram_id: int) -> Rental:
    return Rental.create(user=student(telegram_id), state=State.QUEUED.value,
                         image_key="pytorch", image_ref="nvcr.io/nvidia/pytorch:20.12-py3",
                         gpus=1, unit="day", quantity=1, price=3500, purpose="thesis",
                         created_at=queries.to_db(START), queued_at=queries.to_db(START))


async def test_a_slow_rental_does_not_hold_up_the_next_one(database: str) -> None:
    runtime = SlowRuntime()
    svc = make_services(runtime)
    slow, healthy = queued(STUDENT), queued(OTHER)

    assert await asyncio.wait_for(waitlist.drain(svc), 2) == 2  # the tick does not wait
    for _ in range(50):
        if Rental.get_by_id(healthy.id).state == State.ACTIVE.value:
            break
        await asyncio.sleep(0.01)
    assert Rental.get_by_id(healthy.id).state == State.ACTIVE.value
    assert Rental.get_by_id(slow.id).state == State.PROVISIONING.value

    runtime.release.set()
    await svc.idle()
    assert Rental.get_by_id(slow.id).state == State.ACTIVE.value


async def test_work_on_one_host_is_bounded(database: str) -> None:
    runtime = SlowRuntime()
    svc = make_services(runtime)
    svc.per_host = 1
    slow, healthy = queued(STUDENT), queued(OTHER)
    await waitlist.drain(svc)
    await asyncio.sleep(0.05)
    assert Rental.get_by_id(healthy.id).state == State.PROVISIONING.value  # waits its turn
    runtime.release.set()
    await asyncio.wait_for(svc.idle(), 2)
    assert {Rental.get_by_id(r.id).state for r in (slow, healthy)} == {State.ACTIVE.value}
