"""Creating a rental's container: a leftover holding its name (a crashed process's) is
removed and the run tried again; a second conflict is a real fault."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.ports import RunSpec, RuntimeFaultError
from bot.services import Services
from bot.usecases import container
from bot.usecases.container_spec import Claim, run_spec
from bot.usecases.provision import claim
from models.states import State
from models.tables import Rental
from tests.unit.test_lifecycle import STUDENT, Box, FakeRuntime, make_services
from tests.unit.test_waitlist_parallel import queued


@dataclass
class NameTaken(FakeRuntime):
    conflicts: int = 1

    async def run(self, host: str, spec: RunSpec) -> str:
        if any(b.spec.name == spec.name for b in self.boxes.values()) and self.conflicts:
            self.conflicts -= 1
            raise RuntimeFaultError("name_in_use", "name in use", transient=False)
        return await super().run(host, spec)


async def placed(svc: Services) -> tuple[Rental, Claim]:
    rental = queued(STUDENT)
    c = await claim(svc, rental)
    assert c is not None
    return Rental.get_by_id(rental.id), c


async def test_a_leftover_with_the_rentals_name_is_removed_first(database: str) -> None:
    runtime = NameTaken()
    svc = make_services(runtime)
    rental, c = await placed(svc)
    runtime.boxes["old"] = Box("h1", run_spec(rental, c, "t"))
    cid = await container.create(svc, rental, c, "token")
    assert set(runtime.boxes) == {cid}
    assert Rental.get_by_id(rental.id).state == State.PROVISIONING.value


async def test_a_name_that_stays_taken_is_a_fault(database: str) -> None:
    runtime = NameTaken(conflicts=2)
    svc = make_services(runtime)
    rental, c = await placed(svc)
    other = run_spec(rental, c, "t")
    runtime.boxes["foreign"] = Box("h1", RunSpec(**{**other.__dict__, "labels": {}}))
    with pytest.raises(RuntimeFaultError) as fault:
        await container.create(svc, rental, c, "token")
    assert fault.value.kind == "name_in_use"
    assert "foreign" in runtime.boxes  # not ours: never removed
