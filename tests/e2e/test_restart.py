"""A bot that dies mid-provisioning: the next start removes the half-made container, frees
what it held, and provisions the rental again from the queue. Nothing is lost or doubled."""

from __future__ import annotations

import pytest

from bot.usecases import provision
from models import rentals
from models.states import State
from models.tables import GpuAllocation, Rental
from tests.e2e.harness import Harness, request_rental

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


async def test_restart_mid_provisioning_cleans_up_and_starts_again(harness: Harness) -> None:
    await harness.admins()
    student = await harness.user(6001, "Crash", "en")
    await request_rental(student, unit="hour", quantity=2)
    rental = Rental.get_by_id(1)
    now = harness.clock.now()
    # The state a crash leaves: approved, placed, GPUs and ports held, container half made.
    assert rentals.transition(rental.id, State.APPROVED, now, decided_at=now)
    claim = await provision.claim(harness.services, rental)
    assert claim is not None
    engine = harness.rig.engine(claim.host.name)
    engine.client().containers.create("nvcr.io/nvidia/pytorch:20.12-py3", ["sleep", "600"],
                                      name=f"gpurent-r{rental.id}",
                                      labels={"gpurent.rental": str(rental.id)})
    await harness.stop()

    await harness.start()  # what a fresh `gpurent run` does at start-up
    assert engine.client().containers.list(all=True) == []
    assert Rental.get_by_id(rental.id).state == State.QUEUED.value
    assert GpuAllocation.select().where(GpuAllocation.released_at.is_null()).count() == 0

    await harness.tick()
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value
    await student.wait_message(contains="ssh root@")
    live = GpuAllocation.select().where(GpuAllocation.released_at.is_null())
    assert [a.rental.id for a in live] == [rental.id]
    assert len(engine.client().containers.list()) == 1
