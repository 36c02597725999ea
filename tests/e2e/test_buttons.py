"""Buttons end to end: forged admin buttons are refused with nothing changed, and the typed
steps (a reject reason, a partial payment) run as conversations keyed by the admin."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from billing import ledger
from handlers import approval as approval_handlers
from handlers import billing as billing_handlers
from models.states import State
from models.tables import LedgerEntry, Rental, User
from tests.botemu import BotMessage, CallbackAnswer, EmuUser
from tests.e2e.harness import Harness, last_rental, rent, request_rental

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


async def forge(h: Harness, user: EmuUser, message: BotMessage, data: str) -> CallbackAnswer:
    """Press a button with ``data`` on ``message``, whatever its real buttons say."""
    query_id = h.emu.callback_query(user, message, data)
    await h.emu.notifier.wait_for(lambda: h.emu.answer_to(query_id) is not None, 5.0)
    answer = h.emu.answer_to(query_id)
    assert answer is not None, f"{data}: no answer"
    return answer


async def test_a_student_pressing_forged_admin_buttons_is_refused(harness: Harness) -> None:
    boss, _ = await harness.admins()
    paid = await rent(harness, boss, 5001, unit="hour", quantity=1)
    entry = LedgerEntry.get((LedgerEntry.rental == paid) & (LedgerEntry.kind == "charge"))
    mallory = await harness.user(5002, "Mallory", "en")
    await request_rental(mallory, unit="hour", quantity=1)
    pending = last_rental()
    await harness.settle()
    before = len(mallory.messages)
    own = mallory.messages[-1]

    for data in (f"card:{pending.id}", f"rejr:{pending.id}:other", f"appr:{pending.id}",
                 f"rej:{pending.id}", f"pay:full:{entry.id}", f"pay:part:{entry.id}"):
        answer = await forge(harness, mallory, own, data)
        assert answer.show_alert and "Only lab admins" in (answer.text or ""), data
    for data in ("appr:abc", f"rejr:{pending.id}:zzz", "pay:full:-1", "appr:1234567890123"):
        answer = await forge(harness, mallory, own, data)
        assert "no longer valid" in (answer.text or ""), data
    await harness.settle()

    assert Rental.get_by_id(pending.id).state == State.PENDING.value
    assert ledger.balance(User.get(User.telegram_id == 5001)) == -entry.amount
    assert len(mallory.messages) == before  # no prompt, no card, no reply
    await mallory.send("this is not a rejection reason")
    await harness.settle()
    assert Rental.get_by_id(pending.id).state == State.PENDING.value


async def test_a_student_cannot_release_someone_elses_rental(harness: Harness) -> None:
    boss, _ = await harness.admins()
    theirs = await rent(harness, boss, 5011, unit="hour", quantity=1)
    mallory = await harness.user(5012, "Mallory", "en")
    for data in (f"rel:{theirs.id}", f"relok:{theirs.id}", f"ext:{theirs.id}",
                 f"using:{theirs.id}"):
        answer = await forge(harness, mallory, mallory.messages[-1], data)
        assert answer.show_alert and "not yours" in (answer.text or ""), data
    await harness.settle()
    assert Rental.get_by_id(theirs.id).state == State.ACTIVE.value


async def test_a_partial_payment_is_typed_in_private(harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 5021, unit="hour", quantity=5)
    entry = LedgerEntry.get((LedgerEntry.rental == rental) & (LedgerEntry.kind == "charge"))
    order = await boss.wait_message(contains=f"Order {entry.reference}")
    await boss.press(order, "Record payment")
    await boss.wait_message(contains="How much was paid")
    await boss.send("abc")
    await boss.wait_message(contains="Not an amount: abc")  # a typo may be retried
    await boss.send("5")
    await boss.wait_message(contains="¥5.00 recorded")
    assert ledger.balance(User.get(User.telegram_id == 5021)) == 500 - entry.amount
    await boss.send("/cancel")
    await boss.wait_message(contains="nothing to cancel")


async def test_cancel_while_a_reason_is_awaited_keeps_the_request_open(
        harness: Harness) -> None:
    boss, _ = await harness.admins()
    student = await harness.user(5031, "Wu", "en")
    await request_rental(student, unit="hour", quantity=1)
    card = await boss.wait_message(contains="R1")
    await boss.press(card, "Reject")
    reasons = await boss.wait_message(predicate=lambda m: "Other (type a reason)" in m.buttons())
    await boss.press(reasons, "Other (type a reason)")
    await boss.wait_message(contains="Type the reason")
    await boss.send("/cancel")
    await boss.wait_message(contains="the request stays open")
    await boss.send("not a reason any more")
    await harness.settle()
    assert Rental.get_by_id(1).state == State.PENDING.value
    assert [m for m in boss.messages if "nothing to cancel" in (m.text or "")] == []


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Typed steps that give up after a second (listed before ``harness``, which builds them)."""
    second = timedelta(seconds=1)
    monkeypatch.setattr(billing_handlers, "AMOUNT", replace(billing_handlers.AMOUNT, ttl=second))
    monkeypatch.setattr(approval_handlers, "REASON", replace(approval_handlers.REASON, ttl=second))


async def test_typed_steps_give_up_and_say_so(short_waits: None, harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 5041, unit="hour", quantity=5)
    entry = LedgerEntry.get((LedgerEntry.rental == rental) & (LedgerEntry.kind == "charge"))
    order = await boss.wait_message(contains=f"Order {entry.reference}")
    await boss.press(order, "Record payment")
    await boss.wait_message(contains="has expired", timeout=10)
    await boss.send("5")
    await harness.settle()
    assert ledger.balance(User.get(User.telegram_id == 5041)) == -entry.amount

    student = await harness.user(5042, "Lin", "en")
    await request_rental(student, unit="hour", quantity=1)
    card = await boss.wait_message(contains=last_rental().ref)
    await boss.press(card, "Reject")
    reasons = await boss.wait_message(predicate=lambda m: "Other (type a reason)" in m.buttons())
    await boss.press(reasons, "Other (type a reason)")
    await boss.wait_message(contains="No reason came in time", timeout=10)
    await boss.send("too late")
    await harness.settle()
    assert last_rental().state == State.PENDING.value
