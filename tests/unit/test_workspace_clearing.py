"""While a student's workspace is being deleted on a host, none of their rentals is placed
there; the deletion runs beside the tick."""

from __future__ import annotations

from datetime import timedelta

from bot.services import Services
from bot.usecases.provision import provision
from models import queries, workspaces
from models.states import State
from models.tables import Host, Rental
from tests.unit.test_lifecycle import OTHER, START, STUDENT, FakeRuntime, student


def queued(telegram_id: int) -> Rental:
    return Rental.create(user=student(telegram_id), state=State.APPROVED.value,
                         image_key="pytorch", image_ref="nvcr.io/nvidia/pytorch:20.12-py3",
                         gpus=1, unit="day", quantity=1, price=3500, purpose="thesis",
                         created_at=queries.to_db(START))


async def test_a_rental_waits_while_its_students_workspace_is_cleared_there(
        svc: Services, runtime: FakeRuntime) -> None:
    host = Host.get(Host.name == "h1")
    mine, theirs = queued(STUDENT), queued(OTHER)
    assert workspaces.begin_clearing(host, mine.user, START)
    assert not workspaces.begin_clearing(host, mine.user, START)  # one deletion at a time
    assert workspaces.clearing_hosts(mine.user) == {"h1"}
    assert not await provision(svc, mine.id)
    assert Rental.get_by_id(mine.id).state == State.QUEUED.value
    assert await provision(svc, theirs.id)  # other students are not held up
    workspaces.end_clearing(host, mine.user)
    assert await provision(svc, mine.id)


def test_a_mark_left_by_a_crash_expires(database: str) -> None:
    queries.ensure_hosts([("h1", "127.0.0.1", [("0", "", 0)])])
    host, user = Host.get(Host.name == "h1"), student(STUDENT)
    assert workspaces.begin_clearing(host, user, START)
    assert not workspaces.begin_clearing(host, user, START + timedelta(hours=2))
    assert workspaces.begin_clearing(host, user, START + workspaces.CLEARING_STALE
                                     + timedelta(minutes=1))
