"""Placement across the two hosts, and the waitlist that starts rentals by itself."""

from __future__ import annotations

import pytest

from models import queries
from models.states import State
from models.tables import Rental
from tests.e2e.harness import Harness, release_via_chat, rent

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


async def test_single_gpus_pack_one_host_and_a_pair_waits_then_starts(harness: Harness) -> None:
    boss, _ = await harness.admins()
    r1 = await rent(harness, boss, 2001)
    r2 = await rent(harness, boss, 2002)
    # best fit: the second single GPU goes where one is already taken, keeping HPC2 whole
    assert (r1.host.name, queries.rental_gpus(r1)) == ("HPC1", ["0"])
    assert (r2.host.name, queries.rental_gpus(r2)) == ("HPC1", ["1"])
    r3 = await rent(harness, boss, 2003)
    assert (r3.host.name, queries.rental_gpus(r3)) == ("HPC2", ["0"])

    s2 = harness.person(2002)
    await release_via_chat(s2, r2.ref)
    await harness.settle()  # now one GPU free on each host: scattered

    r4 = await rent(harness, boss, 2004, gpus=2)
    assert Rental.get_by_id(r4.id).state == State.QUEUED.value
    s4 = harness.person(2004)
    queued = await s4.wait_message(contains="waiting for free GPUs")
    assert "position 1" in queued.text
    assert harness.rig.engine("HPC1").client().containers.list(
        filters={"label": f"gpurent.rental={r4.id}"}) == []

    s1 = harness.person(2001)
    await release_via_chat(s1, r1.ref)
    await harness.settle()
    started = Rental.get_by_id(r4.id)
    assert started.state == State.ACTIVE.value
    assert (started.host.name, queries.rental_gpus(started)) == ("HPC1", ["0", "1"])
    await s4.wait_message(contains=f"ssh root@{harness.rig.engine('HPC1').address}")


async def test_queued_student_sees_an_estimated_start(harness: Harness) -> None:
    boss, _ = await harness.admins()
    first = await rent(harness, boss, 2101, gpus=2, unit="day", quantity=1)
    second = await rent(harness, boss, 2102, gpus=2, unit="hour", quantity=5)
    assert {first.host.name, second.host.name} == {"HPC1", "HPC2"}
    third = await rent(harness, boss, 2103, gpus=2)
    assert Rental.get_by_id(third.id).state == State.QUEUED.value
    msg = await harness.person(2103).wait_message(contains="Expected")
    # the earliest pair to free up is the 5-hour rental's
    ends = queries.from_db(Rental.get_by_id(second.id).expires_at)
    assert ends is not None
    assert ends.astimezone(harness.config.tz).strftime("%Y-%m-%d %H:%M") in msg.text
