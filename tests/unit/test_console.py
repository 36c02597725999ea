"""The admin console's use cases on the fake runtime: what each action does to the rental, the
ledger and the student, and that nobody but a configured admin gets anything done."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing import ledger
from bot.errors import UserError
from bot.services import Services
from bot.usecases import (
    console,
    console_actions,
    console_misc,
    console_users,
    extend,
    payments,
)
from bot.usecases import request as request_uc
from models import queries, rentals, selfservice, settings
from models.states import State
from models.tables import AuditEvent, GpuAllocation, LedgerEntry, Rental, User
from tests.fakes import RecordingNotifier
from tests.unit.test_lifecycle import ADMIN, OTHER, START, STUDENT, rent, student

pytestmark = pytest.mark.asyncio


def admin() -> User:
    return queries.upsert_user(ADMIN, "Boss", "", "boss", "en", True, START)


def notes(svc: Services) -> RecordingNotifier:
    assert isinstance(svc.notifier, RecordingNotifier)
    return svc.notifier


async def act(svc: Services, rental: Rental, what: str, who: User | None = None) -> str:
    """Press the action's button and confirm it, as the chat does."""
    seen = selfservice.version(rental.id)
    return await console_actions.run(svc, who or admin(), rental.id, what, seen, svc.clock.now())


def held(rental: Rental) -> int:
    return int(GpuAllocation.select().where((GpuAllocation.rental == rental)
                                            & GpuAllocation.released_at.is_null()).count())


async def test_stop_frees_the_gpus_keeps_the_end_and_start_brings_it_back(svc: Services) -> None:
    rental = await rent(svc)
    ends = rental.expires_at
    await act(svc, rental, "stop")
    stopped = Rental.get_by_id(rental.id)
    assert stopped.state == State.EXPIRED.value and stopped.expires_at == ends
    assert held(rental) == 0 and notes(svc).to(STUDENT, "stopped")
    await act(svc, stopped, "start")
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value
    assert held(rental) == 2 and notes(svc).to(STUDENT, "started")


async def test_end_now_with_refund_credits_the_unused_share(svc: Services) -> None:
    rental = await rent(svc, unit="day", quantity=3)
    ledger.charge(rental.user, rental.price, "approval", svc.clock.now(), rental=rental)
    svc.clock.set(svc.clock.now() + timedelta(days=1))  # type: ignore[attr-defined]
    before = ledger.balance(rental.user)
    await act(svc, rental, "endr")
    ended = Rental.get_by_id(rental.id)
    assert ended.state == State.RELEASED.value and held(rental) == 0
    credit = ledger.balance(rental.user) - before
    assert credit == pytest.approx(rental.price * 2 // 3, abs=1)
    assert notes(svc).to(STUDENT, "ended")


async def test_end_now_without_refund_credits_nothing(svc: Services) -> None:
    rental = await rent(svc)
    ledger.charge(rental.user, rental.price, "approval", svc.clock.now(), rental=rental)
    before = ledger.balance(rental.user)
    await act(svc, rental, "end")
    assert Rental.get_by_id(rental.id).state == State.RELEASED.value
    assert ledger.balance(rental.user) == before


async def test_a_free_extension_is_a_zero_grant_in_the_ledger(svc: Services) -> None:
    rental = await rent(svc)
    before = ledger.balance(rental.user)
    await act(svc, rental, "x1d")
    after = Rental.get_by_id(rental.id)
    assert after.expires_at - rental.expires_at == timedelta(days=1)
    grant = LedgerEntry.get((LedgerEntry.rental == rental) & (LedgerEntry.kind == "grant"))
    assert grant.amount == 0 and ledger.balance(rental.user) == before
    assert notes(svc).to(STUDENT, "more time for free")


async def test_a_stale_confirmation_runs_nothing(svc: Services) -> None:
    rental = await rent(svc)
    seen = selfservice.version(rental.id)
    await console_actions.run(svc, admin(), rental.id, "x1d", seen, svc.clock.now())
    with pytest.raises(UserError) as refused:
        await console_actions.run(svc, admin(), rental.id, "x1d", seen, svc.clock.now())
    assert refused.value.key == "ss_done_already"
    assert LedgerEntry.select().where(LedgerEntry.kind == "grant").count() == 1


async def test_a_student_gets_no_console_action_done(svc: Services) -> None:
    rental = await rent(svc)
    mallory = student(OTHER)
    seen = selfservice.version(rental.id)
    for what in ("stop", "restart", "endr", "end", "x7d"):
        with pytest.raises(UserError) as refused:
            await console_actions.run(svc, mallory, rental.id, what, seen, svc.clock.now())
        assert refused.value.key == "not_admin"
    views = (lambda: console.rentals_page(svc.config, mallory, "all", 1),
             lambda: console.card(svc, mallory, rental.id),
             lambda: console.confirm(svc, mallory, rental.id, "stop"),
             lambda: console_users.users_page(svc.config, mallory, 1),
             lambda: console_users.card(svc.config, mallory, mallory),
             lambda: console_misc.queue_view(svc.config, mallory),
             lambda: console_misc.maintenance(svc.config, mallory, ["on"], svc.clock.now()),
             lambda: console_misc.audit(svc.config, mallory, []))
    for view in views:
        with pytest.raises(UserError, match="not_admin"):
            view()
    with pytest.raises(UserError, match="not_admin"):
        await console_users.apply(svc, mallory, rental.user.id, "block", "x", svc.clock.now())
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value
    assert settings.maintenance() is None and not User.get_by_id(rental.user.id).blocked
    assert selfservice.version(rental.id) == seen


async def test_a_blocked_student_cannot_request_or_extend_and_is_told_why(svc: Services) -> None:
    rental = await rent(svc)
    ada = rental.user
    said = await console_users.apply(svc, admin(), ada.id, "block", "unpaid <b>bills</b>",
                                     svc.clock.now())
    assert "blocked" in said and notes(svc).to(STUDENT, "unpaid &lt;b&gt;bills&lt;/b&gt;")
    ada = User.get_by_id(ada.id)
    with pytest.raises(UserError) as refused:
        extend.extendable(rental.id, ada)
    assert refused.value.key == "blocked_why"
    assert "unpaid &lt;b&gt;" in refused.value.render("en")
    with pytest.raises(UserError, match="blocked_why"):
        request_uc.preflight(svc.config, ada)
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value  # left to the admin
    await console_users.apply(svc, admin(), ada.id, "unblock", "paid", svc.clock.now())
    extend.extendable(rental.id, User.get_by_id(ada.id))
    assert {e.kind for e in AuditEvent.select()} >= {"blocked", "unblocked"}


async def test_refund_and_adjust_reach_the_ledger_and_the_student(svc: Services) -> None:
    ada = student()
    said = await console_users.apply(svc, admin(), ada.id, "adjust", "+20 overcharged",
                                     svc.clock.now())
    assert "¥20.00" in said and ledger.balance(ada) == 2000
    await console_users.apply(svc, admin(), ada.id, "refund", "15 cash back", svc.clock.now())
    assert ledger.balance(ada) == 500
    assert notes(svc).to(STUDENT, "refunded you ¥15.00")
    bill = payments.bill_text(User.get_by_id(ada.id), "en")
    assert "refund: -¥15.00 (cash back)" in bill and "adjustment: ¥20.00 (overcharged)" in bill
    with pytest.raises(UserError) as refused:  # more than the lab holds for them
        await console_users.apply(svc, admin(), ada.id, "refund", "50 no", svc.clock.now())
    assert refused.value.key == "ac_bad_amount" and ledger.balance(ada) == 500


async def test_maintenance_refuses_new_requests_with_its_text_until_off(svc: Services) -> None:
    ada = student()
    console_misc.maintenance(svc.config, admin(), ["on", "disk", "swap"], svc.clock.now())
    with pytest.raises(UserError) as refused:
        request_uc.preflight(svc.config, ada)
    assert refused.value.key == "req_maintenance_text" and "disk swap" in refused.value.render(
        "en")
    assert settings.maintenance() == "disk swap"  # in the database: survives a restart
    console_misc.maintenance(svc.config, admin(), ["off"], svc.clock.now())
    request_uc.preflight(svc.config, ada)


async def test_move_up_swaps_places_in_the_queue(svc: Services) -> None:
    now = svc.clock.now()
    rows = [Rental.create(user=student(STUDENT + i), state=State.QUEUED.value, image_key="x",
                          image_ref="x", gpus=1, unit="day", quantity=1, price=100,
                          purpose="p", created_at=queries.to_db(now),
                          queued_at=queries.to_db(now + timedelta(minutes=i)))
            for i in range(3)]
    console_misc.move_up(svc.config, admin(), rows[2].id, now)
    assert [r.id for r in rentals.queued()] == [rows[0].id, rows[2].id, rows[1].id]
    with pytest.raises(UserError):
        console_misc.move_up(svc.config, admin(), rows[0].id, now)  # first already


async def test_broadcast_reaches_students_with_live_rentals_and_counts(svc: Services) -> None:
    await rent(svc)
    student(OTHER)  # no rental: not told unless "all"
    said = await console_misc.broadcast(svc, admin(), "/broadcast reboot at 9", svc.clock.now())
    assert "1 of 1" in said and notes(svc).to(STUDENT, "reboot at 9")
    assert not notes(svc).to(OTHER, "reboot")
    said = await console_misc.broadcast(svc, admin(), "/broadcast all hello", svc.clock.now())
    assert notes(svc).to(OTHER, "hello")


async def test_audit_shows_admin_actions_with_who(svc: Services) -> None:
    rental = await rent(svc)
    await act(svc, rental, "x1d")
    text = console_misc.audit(svc.config, admin(), [rental.ref])
    assert "admin_extended" in text and "Boss" in text


async def test_audit_of_a_student_shows_money_and_blocks(svc: Services) -> None:
    ada = student()
    await console_users.apply(svc, admin(), ada.id, "adjust", "+5 goodwill", svc.clock.now())
    await console_users.apply(svc, admin(), ada.id, "block", "spam", svc.clock.now())
    text = console_misc.audit(svc.config, admin(), ["@ada"])
    assert "ledger_adjust_credit" in text and "¥5.00" in text and "blocked" in text
    assert "Boss" in text
