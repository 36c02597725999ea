"""The charge of an approval is written with the decision: a release right after it finds the
charge and gives it back whole; nothing is left charged on a cancelled rental."""

from __future__ import annotations

from billing import ledger
from bot.services import Services
from bot.usecases import approve
from bot.usecases.after_decision import after_decision
from bot.usecases.release import release
from models import queries
from models.states import State
from models.tables import LedgerEntry, Rental
from tests.unit.test_lifecycle import ADMIN, START, STUDENT, FakeRuntime, student


def pending(svc: Services) -> Rental:
    return Rental.create(user=student(STUDENT), state=State.PENDING.value,
                         image_key="pytorch", image_ref="nvcr.io/nvidia/pytorch:20.12-py3",
                         gpus=1, unit="day", quantity=1, price=3500, purpose="thesis",
                         created_at=queries.to_db(START))


async def test_the_approval_and_its_charge_are_one_step(svc: Services,
                                                        runtime: FakeRuntime) -> None:
    rental = pending(svc)
    queries.upsert_user(ADMIN, "Boss", "", "boss", "en", True, START)
    decision = approve.decide(svc, rental.id, ADMIN, True, "", START)
    assert decision.charge is not None and decision.charge.amount == 3500
    # The student releases before the follow-up runs: the charge is there to be credited.
    await release(svc, rental.id, student(STUDENT), START)
    assert ledger.rental_balance(Rental.get_by_id(rental.id)) == 0
    await after_decision(svc, decision, START)
    charges = LedgerEntry.select().where((LedgerEntry.rental == rental)
                                         & (LedgerEntry.kind == "charge"))
    assert charges.count() == 1  # the follow-up charges nothing more
    assert Rental.get_by_id(rental.id).state == State.CANCELLED.value


async def test_a_rejection_charges_nothing(svc: Services) -> None:
    rental = pending(svc)
    queries.upsert_user(ADMIN, "Boss", "", "boss", "en", True, START)
    decision = approve.decide(svc, rental.id, ADMIN, False, "capacity", START)
    assert decision.charge is None
    assert not LedgerEntry.select().where(LedgerEntry.rental == rental).exists()
