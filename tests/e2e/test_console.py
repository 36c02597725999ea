"""The admin console end to end, through the emulator on the rig: menus per scope, /rental's
buttons, /user's typed actions, and a student who tries all of it and is refused with nothing
changed."""

from __future__ import annotations

import io

import docker.errors
import pytest
from PIL import Image
from telegram import BotCommandScopeChat

from billing import ledger
from billing.money import format_money
from bot.menus import MENU_CHATS, set_all_commands
from bot.ratelimit import RateLimiter
from bot.usecases import host_view
from handlers.ratelimit import LIMITER_KEY
from models import settings
from models.states import State
from models.tables import AuditEvent, CatalogImage, LedgerEntry, Rental, User
from tests.botemu import BotMessage, EmuUser
from tests.e2e.harness import ADMIN_IDS, Harness, rent
from tests.e2e.test_buttons import forge

pytestmark = [pytest.mark.rig, pytest.mark.e2e]

CONSOLE = ("/rentals", "/rentals all", "/rental R1", "/queue", "/users", "/user 1",
           "/user @admin0", "/hosts", "/pending", "/report", "/broadcast all hi",
           "/maintenance on closed", "/maintenance off", "/audit", "/audit R1", "/images",
           "/images add docker.io/library/ubuntu:24.04", "/images prepare pytorch")


def chat_scope(chat_id: int) -> dict[str, object]:
    return {"type": "chat", "chat_id": chat_id}


async def test_menus_are_set_per_scope_at_start_up_and_a_removed_id_loses_its_own(
        harness: Harness) -> None:
    students = [c for c, _ in harness.emu.commands()]
    assert "request" in students and "rentals" not in students
    for admin in ADMIN_IDS:
        assert {"rentals", "users", "audit", "request"} <= {
            c for c, _ in harness.emu.commands(chat_scope(admin))}
    # 4242 was an admin when the bot last started, and is no longer in the config.
    await harness.app.bot.set_my_commands([("rentals", "x")], scope=BotCommandScopeChat(4242))
    assert harness.emu.commands(chat_scope(4242))
    settings.put(MENU_CHATS, f"{ADMIN_IDS[0]},4242", harness.clock.now(), None)
    await set_all_commands(harness.app.bot, harness.services)
    assert harness.emu.commands(chat_scope(4242)) == []
    assert harness.emu.commands(chat_scope(ADMIN_IDS[0]))


async def test_a_student_trying_the_console_is_refused_with_nothing_changed(
        harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 5101, unit="hour", quantity=2)
    mallory = await harness.user(5102, "Mallory", "en")
    # Mallory is quick on purpose; the flood limit is not what this test is about.
    harness.app.bot_data[LIMITER_KEY] = RateLimiter(capacity=1000, per_second=100)
    before = (Rental.get_by_id(rental.id).state, AuditEvent.select().count(),
              ledger.balance(rental.user))
    for command in CONSOLE:
        said = await mallory.send(command.replace("R1", rental.ref))
        reply = await mallory.wait_message(after=said)
        assert "Only lab admins" in reply.content, command
        assert not reply.buttons(), command
    own = mallory.messages[-1]
    uid = rental.user.id
    for data in ("arl:all:1", f"arc:{rental.id}", f"ara:{rental.id}:endr",
                 f"arok:{rental.id}:end:1", f"arok:{rental.id}:x7d:99", "aul:1",
                 f"auc:{uid}", f"aua:{uid}:block", f"aua:{uid}:refund", f"aua:{uid}:msg",
                 f"aqu:{rental.id}", f"aqx:{rental.id}", "aimh:1", "aimr:1"):
        answer = await forge(harness, mallory, own, data)
        assert answer.show_alert and "Only lab admins" in (answer.text or ""), data
    for data in ("arok:1:nuke:1", "aua:1:delete", "arl:all:0", "ara:abc:stop"):
        answer = await forge(harness, mallory, own, data)
        assert "no longer valid" in (answer.text or ""), data
    await mallory.send("-100 typed as if it were an amount")
    await harness.settle()
    assert (Rental.get_by_id(rental.id).state, AuditEvent.select().count(),
            ledger.balance(rental.user)) == before
    assert settings.maintenance() is None and not User.get_by_id(uid).blocked
    assert [i.hidden for i in CatalogImage.select()] == [False] * CatalogImage.select().count()


async def _card(admin: EmuUser, ref: str) -> BotMessage:
    await admin.send(f"/rental {ref}")
    return await admin.wait_message(
        predicate=lambda m: m.content.startswith(ref) and "End now" in " ".join(m.buttons()))


async def test_end_now_with_refund_frees_the_container_and_shows_in_the_bill(
        harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 5111, unit="day", quantity=2)
    student = harness.person(5111)
    charge = LedgerEntry.get((LedgerEntry.rental == rental) & (LedgerEntry.kind == "charge"))
    order = await boss.wait_message(contains=f"Order {charge.reference}")
    await boss.press(order, "Mark paid")
    await boss.wait_message(contains="recorded")
    card = await _card(boss, rental.ref)
    await boss.press(card, "End now + refund")
    ask = await boss.wait_message(contains=f"End {rental.ref}", after=card)
    yes_data = ask.reply_markup[0][0].callback_data
    assert yes_data is not None and yes_data.startswith("arok:")
    await boss.press(ask, "Yes, do it")
    await boss.wait_message(contains=f"{rental.ref} ended")
    await student.wait_message(contains=f"An admin ended {rental.ref}")
    await harness.settle()
    ended = Rental.get_by_id(rental.id)
    assert ended.state == State.RELEASED.value
    assert rental.host is not None
    with pytest.raises(docker.errors.NotFound):
        harness.rig.engine(rental.host.name).client().containers.get(rental.container_id)
    credit = LedgerEntry.get((LedgerEntry.rental == rental) & (LedgerEntry.kind == "credit"))
    assert 0 < credit.amount <= rental.price
    await student.send("/bill")
    net = format_money(rental.price - credit.amount)
    await student.wait_message(contains=f"{rental.ref}: {net}")
    # the credit is paid out: a refund from /user, which the student's /bill shows
    await boss.send(f"/user {rental.user.id}")
    ucard = await boss.wait_message(predicate=lambda m: "Refund" in " ".join(m.buttons()))
    await boss.press(ucard, "Refund")
    await boss.wait_message(contains="Refund to")
    await boss.send(f"{format_money(credit.amount)[1:]} cash back")
    await boss.wait_message(contains="Refunded")
    await student.send("/bill")
    await student.wait_message(contains=f"refund: -{format_money(credit.amount)} (cash back)")
    # the same confirmation pressed again (a second tap) runs nothing
    answer = await forge(harness, boss, card, yes_data)
    assert answer.show_alert
    await harness.settle()
    assert AuditEvent.select().where(AuditEvent.kind == "admin_ended").count() == 1


async def test_a_blocked_students_extend_is_refused_with_the_reason(harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 5121, unit="hour", quantity=2)
    student = harness.person(5121)
    await boss.send(f"/user {rental.user.id}")
    card = await boss.wait_message(predicate=lambda m: "Block" in " ".join(m.buttons()))
    await boss.press(card, "Block")
    await boss.wait_message(contains="Why block")
    await boss.send("unpaid <b>bills</b>")
    await boss.wait_message(contains="is blocked")
    told = await student.wait_message(contains="was blocked by the lab admin")
    assert "unpaid" in told.content and "bills" in told.content
    answer = await forge(harness, student, student.messages[-1], f"ext:{rental.id}")
    assert answer.show_alert and "unpaid" in (answer.text or "")
    await student.send("/request")
    await student.wait_message(contains="Reason: unpaid")
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value  # left to the admin


async def test_hosts_shows_a_started_container_and_a_stopped_engine_with_a_chart(
        harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 5131, unit="hour", quantity=2)
    assert rental.host is not None
    other = "HPC2" if rental.host.name == "HPC1" else "HPC1"
    harness.rig.engine(other).stop_daemon()
    try:
        said = await boss.send("/hosts")
        table = await boss.wait_message(contains="GPUs free", after=said, timeout=30)
        chart = await boss.wait_message(predicate=lambda m: m.photo is not None, after=said,
                                        timeout=30)
    finally:
        harness.rig.engine(other).start_daemon()
    assert f"{rental.ref} S5131" in table.content and "Docker " in table.content
    down = table.content.split(f"{other}")[1].splitlines()[0]
    assert "UNREACHABLE" in down, table.content
    assert chart.photo is not None
    image = Image.open(io.BytesIO(chart.photo))
    assert image.format == "PNG"
    assert image.size == (host_view.CHART_WIDTH, host_view.HOST_HEIGHT * 2)
