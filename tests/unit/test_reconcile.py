"""Reconcile: Docker against the database, each difference put right, busy rentals left be."""

from __future__ import annotations

from datetime import timedelta

from bot.ports import RunSpec
from bot.services import Services
from bot.usecases import credentials as cred
from bot.usecases.reconcile import reconcile
from models import locks, queries
from models.states import State
from models.tables import AuditEvent, Rental
from tests.fakes import RecordingNotifier
from tests.unit.test_lifecycle import (
    ADMIN,
    OTHER,
    START,
    STUDENT,
    Box,
    FakeRuntime,
    rent,
    student,
)

LATER = START + timedelta(minutes=10)


def texts(svc: Services, chat: int) -> list[str]:
    notifier = svc.notifier
    assert isinstance(notifier, RecordingNotifier)
    return [s.text for s in notifier.to(chat)]


async def test_a_stopped_container_of_a_running_rental_is_started(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    runtime.boxes[rental.container_id].state = "exited"
    assert await reconcile(svc, LATER) == 1
    assert runtime.boxes[rental.container_id].state == "running"
    assert any("stopped" in x for x in texts(svc, STUDENT))
    assert await reconcile(svc, LATER) == 0  # level-triggered: nothing left to do


async def test_a_vanished_container_is_recreated_with_the_same_ports_and_a_new_password(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    old_spec = runtime.boxes.pop(rental.container_id).spec
    assert await reconcile(svc, LATER) == 1
    after = Rental.get_by_id(rental.id)
    assert after.container_id != rental.container_id
    new_spec = runtime.boxes[after.container_id].spec
    assert (new_spec.ports, new_spec.gpu_ids, new_spec.workspace_dir) == (
        old_spec.ports, old_spec.gpu_ids, old_spec.workspace_dir)
    assert new_spec.image == rental.image_ref
    assert new_spec.jupyter_token and "JUPYTER_TOKEN" not in new_spec.env  # never open
    password_msg = [x for x in texts(svc, STUDENT) if "Password" in x][-1]
    password = password_msg.split("<code>")[2].split("</code>")[0]
    assert cred.verify_password(password, after.password_hash)
    assert after.state == State.ACTIVE.value


async def test_a_container_no_rental_owns_is_removed_and_the_admins_told(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    spec = runtime.boxes[rental.container_id].spec
    runtime.boxes["ghost"] = Box("h1", RunSpec(**{**spec.__dict__,
                                                  "labels": {"gpurent.rental": "9999"}}))
    runtime.boxes["dup"] = Box("h1", spec)  # a second container for a live rental
    assert await reconcile(svc, LATER) == 2
    assert set(runtime.boxes) == {rental.container_id}
    assert sum("Removed container" in x for x in texts(svc, ADMIN)) == 2
    assert AuditEvent.select().where(AuditEvent.kind == "stray_removed").count() == 2


async def test_a_rental_whose_lock_is_held_is_left_alone(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    runtime.boxes[rental.container_id].state = "exited"
    runtime.boxes["revival"] = Box("h1", runtime.boxes[rental.container_id].spec)
    assert locks.take(rental.id, LATER)
    assert await reconcile(svc, LATER) == 0
    assert runtime.boxes[rental.container_id].state == "exited"
    assert "revival" in runtime.boxes


async def test_an_approved_rental_nobody_started_is_started(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = Rental.create(user=student(OTHER), state=State.APPROVED.value,
                           image_key="pytorch", image_ref="nvcr.io/nvidia/pytorch:20.12-py3",
                           gpus=1, unit="day", quantity=1, price=3500, purpose="p",
                           created_at=queries.to_db(START))
    await reconcile(svc, LATER)
    await svc.idle()
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value


async def test_provisioning_no_process_runs_is_rolled_back_and_queued(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    Rental.update(state=State.PROVISIONING.value).where(Rental.id == rental.id).execute()
    await reconcile(svc, LATER)
    await svc.idle()
    assert rental.container_id not in runtime.boxes  # the half-made container is gone
    assert AuditEvent.select().where(AuditEvent.kind == "recovered").count() == 1
    # queued again, and the queue starts it once more with a new container
    after = Rental.get_by_id(rental.id)
    assert after.state in (State.QUEUED.value, State.ACTIVE.value)
