"""Every injected fault ends cleanly: no container, GPU or port left held; people told."""

from __future__ import annotations

import socket

import pytest

from bot.jobs import run_tick
from models.states import State
from models.tables import GpuAllocation, Host, LedgerEntry, PortAllocation, Rental
from tests.e2e.harness import Harness, rent
from tests.e2e.sshcheck import credentials_of

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


def nothing_held(h: Harness) -> None:
    assert GpuAllocation.select().where(GpuAllocation.released_at.is_null()).count() == 0
    assert PortAllocation.select().where(PortAllocation.released_at.is_null()).count() == 0
    for engine in h.rig.engines:
        if engine.running:
            assert engine.client().containers.list(all=True) == []


def charged_back(rental: Rental) -> None:
    kinds = [e.kind for e in LedgerEntry.select().where(LedgerEntry.rental == rental)]
    assert sorted(kinds) == ["charge", "credit"]


async def test_gpu_hook_failure_fails_the_rental_and_frees_everything(harness: Harness) -> None:
    for engine in harness.rig.engines:
        engine.fail_gpu_hook(True)
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 3001)
    assert Rental.get_by_id(rental.id).state == State.FAILED.value
    student = harness.person(3001)
    await student.wait_message(contains="could not be started")
    await boss.wait_message(contains=f"{rental.ref} failed")
    nothing_held(harness)
    charged_back(rental)


@pytest.mark.config(rental={"ready_timeout_s": 4})
async def test_ssh_that_never_answers_fails_cleanly(harness: Harness) -> None:
    engine = harness.rig.engine("HPC1")
    client = engine.client()
    broken = client.containers.run("nvcr.io/nvidia/pytorch:20.12-py3",
                                   ["rm", "-f", "/usr/sbin/sshd"], detach=True)
    broken.wait()
    # a student's own image is always pulled (never taken from the host): serve it
    repo = f"{harness.rig.registry}/nvidia/pytorch"
    broken.commit(repo, "nossh")
    broken.remove()
    for line in client.api.push(repo, tag="nossh", stream=True, decode=True):
        assert "error" not in line, line
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 3002, image=f"{repo}:nossh")
    assert Rental.get_by_id(rental.id).state == State.FAILED.value
    await harness.person(3002).wait_message(contains="could not be started")
    nothing_held(harness)


async def test_taken_host_port_is_swapped_for_a_free_one(harness: Harness) -> None:
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # HPC1's first port, taken outside gpurent
    blocker.bind((harness.rig.engine("HPC1").address, 21000))
    blocker.listen()
    try:
        boss, _ = await harness.admins()
        rental = await rent(harness, boss, 3003)
        student = harness.person(3003)
        creds = credentials_of(await student.wait_message(contains="ssh root@"))
    finally:
        blocker.close()
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value
    assert creds["port"] != "21000"
    assert PortAllocation.select().where(PortAllocation.port == 21000,
                                         PortAllocation.released_at.is_null()).count() == 0


async def test_unreachable_host_is_skipped(harness: Harness) -> None:
    harness.rig.engine("HPC1").stop_daemon()
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 3004)
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value
    assert Rental.get_by_id(rental.id).host.name == "HPC2"
    assert not Host.get(Host.name == "HPC1").reachable
    harness.rig.engine("HPC1").start_daemon()
    await run_tick(harness.services)
    assert Host.get(Host.name == "HPC1").reachable


async def test_unknown_tag_fails_and_a_stopped_registry_requeues(harness: Harness) -> None:
    registry = harness.rig.registry
    boss, _ = await harness.admins()
    bad = await rent(harness, boss, 3005, image=f"{registry}/nvidia/pytorch:no-such-tag")
    assert Rental.get_by_id(bad.id).state == State.FAILED.value
    nothing_held(harness)

    harness.rig.stop_registry()
    later = await rent(harness, boss, 3006, image=f"{registry}/nvidia/pytorch:23.10-py3")
    assert Rental.get_by_id(later.id).state == State.QUEUED.value
    student = harness.person(3006)
    await student.wait_message(contains="back in the queue")
    nothing_held(harness)

    harness.rig.start_registry()
    await harness.tick()
    assert Rental.get_by_id(later.id).state == State.ACTIVE.value
    await student.wait_message(contains="ssh root@")
    pulled = [m for m in student.messages if "downloading image" in (m.text or "")
              or any("downloading image" in str(v) for v in m.history)]
    assert pulled, "the student never saw the pull progress"
