"""Student self-service end to end on the rig, through the emulator, with real SSH logins:
Restart (and the rebuild when the container is gone), New password, Withdraw."""

from __future__ import annotations

import asyncio

import pytest

from models.states import State
from models.tables import AuditEvent, Rental
from tests.botemu import BotMessage, EmuUser
from tests.e2e.harness import Harness, approve_next, rent, request_rental, workspace
from tests.e2e.sshcheck import credentials_of, login_fails, ssh

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


async def card_of(student: EmuUser, ref: str, button: str) -> BotMessage:
    await student.send("/my")
    return await student.wait_message(predicate=lambda m: ref in m.content
                                      and button in " ".join(m.buttons()))


async def press_through(student: EmuUser, ref: str, button: str, yes: str) -> BotMessage:
    """/my → the rental's ``button`` → the confirmation's ``yes``; returns the confirmation."""
    card = await card_of(student, ref, button)
    await student.press(card, button)
    confirm = await student.wait_message(predicate=lambda m: yes in " ".join(m.buttons()),
                                         after=card)
    return confirm


def audited(kind: str, rental: Rental) -> int:
    return int(AuditEvent.select().where((AuditEvent.kind == kind)
                                         & (AuditEvent.rental == rental)).count())


async def test_restart_keeps_the_password_and_a_double_tap_restarts_once(
        harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 1201)
    student = harness.person(1201)
    creds = credentials_of(await student.wait_message(contains="ssh root@"))
    address, port, password = creds["address"], int(creds["port"]), creds["password"]
    await ssh(address, port, password, "echo kept > /root/outside.txt")
    boot = await ssh(address, port, password, "cat /proc/1/stat | cut -d' ' -f22")

    confirm = await press_through(student, rental.ref, "Restart", "Yes, restart")
    data = next(b.callback_data for row in confirm.reply_markup for b in row)
    assert data is not None
    for _ in range(2):  # a double tap: two presses of the same button before any answer
        harness.emu.callback_query(student, confirm, data)
    await student.wait_message(contains=f"{rental.ref} is back up", timeout=60)
    await harness.settle()

    assert audited("restarted", rental) == 1
    assert await ssh(address, port, password, "cat /root/outside.txt") == "kept\n"
    assert await ssh(address, port, password, "cat /proc/1/stat | cut -d' ' -f22") != boot
    assert Rental.get_by_id(rental.id).container_id == rental.container_id


async def test_a_container_that_will_not_start_again_is_rebuilt_keeping_the_workspace(
        harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 1202)
    student = harness.person(1202)
    creds = credentials_of(await student.wait_message(contains="ssh root@"))
    address, port = creds["address"], int(creds["port"])
    # No /bin/sh: the entry script cannot run, so `docker restart` fails to start it again.
    await ssh(address, port, creds["password"],
              "echo safe > /workspace/data.txt && echo gone > /root/outside.txt && rm /bin/sh")

    confirm = await press_through(student, rental.ref, "Restart", "Yes, restart")
    await student.press(confirm, "Yes, restart")
    told = await student.wait_message(contains="made anew", timeout=60)
    assert "/workspace" in told.text
    fresh = credentials_of(await student.wait_message(contains="ssh root@", after=confirm))
    assert fresh["port"] == creds["port"] and fresh["password"] != creds["password"]
    assert await ssh(address, port, fresh["password"], "cat /workspace/data.txt") == "safe\n"
    assert await ssh(address, port, fresh["password"], "ls /root") == ""  # said to be lost
    assert Rental.get_by_id(rental.id).container_id != rental.container_id
    assert audited("rebuilt", rental) == 1


async def test_a_new_password_works_and_the_old_one_is_refused(harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 1203)
    student = harness.person(1203)
    creds = credentials_of(await student.wait_message(contains="ssh root@"))
    address, port = creds["address"], int(creds["port"])

    confirm = await press_through(student, rental.ref, "New password", "Yes, new password")
    await student.press(confirm, "Yes, new password")
    sent = await student.wait_message(contains="ssh root@", after=confirm, timeout=30)
    assert "will be deleted" in sent.text
    new = sent.text.split("Password: ")[1].split()[0]
    assert new != creds["password"]
    assert (await ssh(address, port, new, "id -u")).strip() == "0"
    assert await asyncio.to_thread(login_fails, address, port, creds["password"])
    assert audited("password_changed", rental) == 1


async def test_a_withdrawn_request_frees_the_student_to_request_again(
        harness: Harness) -> None:
    boss, other = await harness.admins()
    student = await harness.user(1204, "Jin", "en")
    await request_rental(student, unit="hour", quantity=1)
    card = await boss.wait_message(predicate=lambda m: "Approve" in " ".join(m.buttons()))
    rental = Rental.select().order_by(Rental.id.desc()).get()

    confirm = await press_through(student, rental.ref, "Withdraw", "Yes, withdraw")
    await student.press(confirm, "Yes, withdraw")
    await student.wait_message(contains=f"{rental.ref} withdrawn")
    closed = await boss.wait_message(contains="Withdrawn by the student", after=card)
    assert closed.buttons() == []
    await other.wait_message(contains="Withdrawn by the student")
    assert Rental.get_by_id(rental.id).state == State.CANCELLED.value

    await request_rental(student, unit="hour", quantity=1)
    assert Rental.select().order_by(Rental.id.desc()).get().id == rental.id + 1
    await approve_next(boss, f"R{rental.id + 1}")
    await student.wait_message(contains="ssh root@", timeout=60)
    assert workspace(harness.rig, "HPC1", 1204).exists()


async def test_lang_switches_the_language_and_help_explains_the_buttons(
        harness: Harness) -> None:
    student = await harness.user(1205, "Lu", "en")
    await student.send("/help")
    help_text = await student.wait_message(contains="Lost your password?")
    assert "New password" in help_text.text and "/workspace" in help_text.text
    await student.send("/lang")
    await student.wait_message(contains="以后我将使用中文")
    await student.send("/my")
    await student.wait_message(contains="你目前没有租用")
    await student.send("/help")
    await student.wait_message(contains="密码丢了")
