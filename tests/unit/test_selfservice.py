"""Restart, a new password and withdrawing a request, on the fake runtime over a real
database: who may, the rental's lock, the audit log, and buttons that come too late."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing import ledger
from bot.errors import UserError
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import container, selfservice
from bot.usecases import credentials as cred
from models import locks, queries, views
from models.states import State
from models.tables import AuditEvent, GpuAllocation, Rental
from tests.fakes import RecordingNotifier
from tests.unit.test_lifecycle import (
    ADMIN,
    OTHER,
    START,
    STUDENT,
    FakeRuntime,
    expires,
    rent,
    student,
    tick_at,
)


def notes(svc: Services) -> RecordingNotifier:
    assert isinstance(svc.notifier, RecordingNotifier)
    return svc.notifier


def audited(kind: str) -> int:
    return int(AuditEvent.select().where(AuditEvent.kind == kind).count())


# --- restart --------------------------------------------------------------------------------

async def test_restart_restarts_the_same_container_and_keeps_the_password(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    done = await selfservice.restart(svc, rental.id, student(), START)
    assert not done.rebuilt and done.rental.container_id == rental.container_id
    assert done.rental.password_hash == rental.password_hash
    assert runtime.named("restart") == [("restart", "h1", rental.container_id)]
    assert len(runtime.named("wait_ready")) == 2  # once at the start, once after the restart
    assert audited("restarted") == 1 and not locks.held(rental.id)


async def test_a_container_that_is_gone_is_made_again_from_its_image_with_a_new_password(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    old = runtime.boxes.pop(rental.container_id)  # removed out of band
    runtime.fail["restart"] = RuntimeFaultError("gone", "no such container", transient=False)
    done = await selfservice.restart(svc, rental.id, student(), START)
    after = done.rental
    assert done.rebuilt and after.container_id != rental.container_id
    new = runtime.boxes[after.container_id].spec
    assert new.image == rental.image_ref and new.gpu_ids == old.spec.gpu_ids
    assert new.ports == old.spec.ports and new.workspace_dir == old.spec.workspace_dir
    assert new.jupyter_token and not new.env  # a fresh token, never an open Jupyter
    assert after.password_hash != rental.password_hash
    creds = notes(svc).to(STUDENT, "ssh root@")
    assert len(creds) == 2 and creds[-1].text != creds[0].text
    assert audited("rebuilt") == 1


async def test_a_rebuild_that_fails_puts_the_old_container_back(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    runtime.fail["restart"] = RuntimeFaultError("start", "will not start", transient=False)
    runtime.fail["set_root_password"] = RuntimeFaultError("start", "no chpasswd",
                                                          transient=False)
    with pytest.raises(UserError) as refused:
        await selfservice.restart(svc, rental.id, student(), START)
    assert refused.value.key == "ss_replace_failed"
    assert list(runtime.boxes) == [rental.container_id]  # the new one removed
    assert runtime.boxes[rental.container_id].state == "running"  # the old one put back
    assert Rental.get_by_id(rental.id).container_id == rental.container_id
    assert audited("rebuilt_failed") == 1 and not locks.held(rental.id)


async def test_only_the_owner_or_an_admin_may_restart(svc: Services) -> None:
    rental = await rent(svc)
    with pytest.raises(UserError) as refused:
        await selfservice.restart(svc, rental.id, student(OTHER), START)
    assert refused.value.key == "my_unknown"
    admin = queries.upsert_user(ADMIN, "Boss", "", "boss", "en", True, START)
    assert not (await selfservice.restart(svc, rental.id, admin, START)).rebuilt


async def test_restart_waits_while_another_action_holds_the_rental(svc: Services) -> None:
    rental = await rent(svc)
    with container.hold(rental, START), pytest.raises(UserError) as refused:
        await selfservice.restart(svc, rental.id, student(), START)
    assert refused.value.key == "life_busy"


async def test_a_restart_button_of_an_expired_rental_says_it_no_longer_applies(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    await tick_at(svc, expires(rental) + timedelta(minutes=1))
    with pytest.raises(UserError) as refused:
        await selfservice.restart(svc, rental.id, student(), START)
    assert refused.value.key == "ss_not_running" and not runtime.named("restart")


async def test_a_restart_on_a_host_that_is_down_changes_nothing(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    runtime.fail["restart"] = RuntimeFaultError("unreachable", "down", transient=True)
    with pytest.raises(UserError) as refused:
        await selfservice.restart(svc, rental.id, student(), START)
    assert refused.value.key == "ss_host_down" and not runtime.named("run")[1:]


# --- new password ---------------------------------------------------------------------------

async def test_a_new_password_is_set_stored_as_a_hash_and_sent_to_be_deleted(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    after = await selfservice.new_password(svc, rental.id, student(), START)
    assert len(runtime.named("set_root_password")) == 2
    assert after.password_hash != rental.password_hash
    sent = notes(svc).to(STUDENT, "ssh root@")[-1].text
    password = sent.split("Password: <code>")[1].split("<")[0]
    assert cred.verify_password(password, after.password_hash)
    assert "will be deleted" in sent and audited("password_changed") == 1


async def test_a_new_password_is_refused_when_keys_only_is_on_and_a_key_exists(
        svc: Services) -> None:
    from dataclasses import replace

    from models import selfservice as keys

    rental = await rent(svc)
    svc.config = replace(svc.config, rental=replace(svc.config.rental,
                                                    keys_only_when_keyed=True))
    keys.add_key(student(), "ssh-ed25519 AAAA", "SHA256:x", "ssh-ed25519", 256, START)
    with pytest.raises(UserError) as refused:
        await selfservice.new_password(svc, rental.id, student(), START)
    assert refused.value.key == "ss_password_off"


# --- withdraw -------------------------------------------------------------------------------

def pending(svc: Services) -> Rental:
    return Rental.create(user=student(), state=State.PENDING.value, image_key="pytorch",
                         image_ref="nvcr.io/nvidia/pytorch:20.12-py3", gpus=1, unit="day",
                         quantity=1, price=7500, purpose="x",
                         created_at=queries.to_db(START))


async def test_withdrawing_a_pending_request_closes_the_admins_cards_and_charges_nothing(
        svc: Services) -> None:
    rental = pending(svc)
    views.remember_message(rental, "card", ADMIN, 77)
    edits: list[tuple[int, int, str]] = []

    async def edit(chat_id: int, message_id: int, text: str, buttons: object = None) -> bool:
        edits.append((chat_id, message_id, text))
        return True

    notes(svc).edit = edit  # type: ignore[method-assign]
    after = await selfservice.withdraw(svc, rental.id, student(), START)
    assert after.state == State.CANCELLED.value
    assert [(c, m) for c, m, _ in edits] == [(ADMIN, 77)] and "Withdrawn" in edits[0][2]
    assert ledger.balance(student()) == 0 and audited("withdrawn") == 1


async def test_withdrawing_a_queued_request_gives_its_charge_back(svc: Services) -> None:
    rental = pending(svc)
    rentals_now = Rental.update(state=State.QUEUED.value).where(Rental.id == rental.id)
    rentals_now.execute()
    ledger.charge(student(), 7500, "R1", START, rental=rental)
    await selfservice.withdraw(svc, rental.id, student(), START)
    assert ledger.balance(student()) == 0


async def test_a_running_rental_cannot_be_withdrawn(svc: Services) -> None:
    rental = await rent(svc)
    with pytest.raises(UserError) as refused:
        await selfservice.withdraw(svc, rental.id, student(), START)
    assert refused.value.key == "ss_not_withdrawable"
    assert GpuAllocation.select().where(GpuAllocation.released_at.is_null()).count() == 2


async def test_a_stranger_cannot_withdraw_a_request(svc: Services) -> None:
    rental = pending(svc)
    with pytest.raises(UserError):
        await selfservice.withdraw(svc, rental.id, student(OTHER), START)
    assert Rental.get_by_id(rental.id).state == State.PENDING.value


# --- /lang and /my ---------------------------------------------------------------------------

def test_lang_switches_and_stays_switched(svc: Services) -> None:
    from models.tables import User

    user = student()  # registered in English
    assert "以后我将使用中文" in selfservice.switch_language(user, "")
    assert User.get_by_id(user.id).language == "zh"
    assert "English" in selfservice.switch_language(User.get_by_id(user.id), "")
    assert User.get_by_id(user.id).language == "en"
    with pytest.raises(UserError):
        selfservice.switch_language(User.get_by_id(user.id), "fr")
    assert student().language == "en"  # coming back does not undo it


async def test_my_details_show_gpus_time_left_and_cost_so_far(svc: Services) -> None:
    from bot.usecases.my_view import details

    rental = await rent(svc)
    ledger.charge(student(), 7500, "R1", START, rental=rental)
    ledger.credit(student(), 500, "back", START, rental=rental)
    text = details(svc, rental, "en", START + timedelta(hours=1))
    assert "GPU ids: 0,1" in text and "Time left: 2 d 23 h 0 min" in text
    assert "Cost so far: ¥70.00" in text


async def test_the_second_press_of_a_confirmation_is_refused_before_any_work(
        svc: Services) -> None:
    rental = await rent(svc)
    seen = selfservice.version(svc, rental.id, student())
    selfservice.claim_press(svc, rental.id, student(), seen, "restart", START)
    with pytest.raises(UserError) as again:
        selfservice.claim_press(svc, rental.id, student(), seen, "restart", START)
    assert again.value.key == "ss_in_progress"
    await selfservice.restart(svc, rental.id, student(), START, seen)
    with pytest.raises(UserError) as stale:  # an old confirmation after the work was done
        selfservice.claim_press(svc, rental.id, student(), seen, "password", START)
    assert stale.value.key == "ss_done_already"
