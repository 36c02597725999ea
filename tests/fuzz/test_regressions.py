"""Each failure the chat fuzz found, replayed as one focused test on the same world (the real
bot, the emulator, a fake runtime)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import t
from tests.fuzz import checks
from tests.fuzz.world import World, errors_logged

# Conversation timeouts need the JobQueue, which these tests do not run.
pytestmark = pytest.mark.filterwarnings("ignore:Ignoring `conversation_timeout`")
STUDENT_ZH, STUDENT_EN, ADMIN, ADMIN_ZH = 1001, 1002, 9001, 9002


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    with errors_logged() as records:
        found = World(tmp_path)
        await found.start()
        yield found
        await found.stop()
    assert checks.logged_errors(records) == []
    found.emu.assert_no_errors()


async def test_a_button_no_kind_reads_is_answered_as_no_longer_valid(world: World) -> None:
    await world.say(STUDENT_EN, "/start")
    await world.deliver()
    welcome = world.people[STUDENT_EN].messages[-1]
    for data in ("x" * 64, "old:button:1"):
        world.press(STUDENT_EN, welcome, data)
        await world.deliver()
    answers = world.emu.callback_answers
    assert [a.text for a in answers] == [t("en", "button_bad")] * 2
    assert world.emu.queries == {}


async def test_a_dialogue_button_that_jumps_past_unanswered_steps_is_refused_as_stale(
        world: World) -> None:
    """An older message's "No extra ports" led to a summary priced for no GPUs (an error
    alert); "« Back" from the purpose asked for a quantity of no unit."""
    await world.say(STUDENT_EN, "/request")
    await world.deliver()
    dialogue = world.people[STUDENT_EN].messages[-1]
    for data in ("rq:ports:none", "rq:back:purpose"):
        world.press(STUDENT_EN, dialogue, data)
        await world.deliver()
    assert [a.text for a in world.emu.callback_answers] == [t("en", "req_stale")] * 2
    assert dialogue.content.startswith("1/6")  # still asking for the image


async def test_a_reason_from_the_buttons_reaches_the_student_in_the_students_language(
        world: World) -> None:
    """A Chinese-speaking admin's "该时段资源不足" went as it was to an English student."""
    rental = await request(world, STUDENT_EN)
    await world.say(ADMIN_ZH, "/start")  # the admin's language is known from here on
    await world.deliver()
    card = next(m for m in world.people[ADMIN_ZH].messages if f"R{rental}" in m.content
                and m.reply_markup)
    for data in (f"rej:{rental}", f"rejr:{rental}:capacity"):
        world.press(ADMIN_ZH, card, data)
        await world.deliver()
    told = world.people[STUDENT_EN].messages[-1].content
    assert told == t("en", "req_rejected", ref=f"R{rental}", reason=t("en", "reject_capacity"))
    assert t("zh", "reject_capacity") in card.content


async def request(world: World, uid: int) -> int:
    """The /request dialogue by its buttons and answers; the new rental's id."""
    await world.say(uid, "/request")
    await world.deliver()
    for data, typed in (("rq:img:pytorch", ""), ("rq:gpu:1", ""), ("rq:unit:hour", ""),
                        ("", "2"), ("", "train"), ("rq:ports:none", ""), ("rq:ok:", "")):
        if typed:
            await world.say(uid, typed)
        else:
            world.press(uid, world.people[uid].messages[-1], data)
        await world.deliver()
    found = re.search(r"\bR(\d+)\b", world.people[uid].messages[-1].content)
    assert found, world.people[uid].describe()
    return int(found.group(1))


async def test_a_second_tap_on_reject_or_back_leaves_the_card_as_it_is(world: World) -> None:
    """Asking Telegram to show the same buttons again was refused ("message is not
    modified") and went to the error handler, alerting the admins."""
    rental = await request(world, STUDENT_EN)
    card = next(m for m in world.people[ADMIN].messages if m.reply_markup)
    for data in (f"card:{rental}", f"rej:{rental}", f"rej:{rental}", f"card:{rental}",
                 f"card:{rental}"):
        world.press(ADMIN, card, data)
        await world.deliver()
    assert [b.callback_data for row in card.reply_markup for b in row] == [
        f"appr:{rental}", f"rej:{rental}"]


async def test_mark_paid_pressed_on_a_message_without_buttons_edits_nothing(
        world: World) -> None:
    """"Mark paid" took the buttons off the pressed message even when it had none (data sent
    from another message): an edit Telegram refuses as not modified."""
    rental = await request(world, STUDENT_EN)
    card = next(m for m in world.people[ADMIN].messages if m.reply_markup)
    world.press(ADMIN, card, f"appr:{rental}")
    await world.deliver()
    assert not card.reply_markup
    world.press(ADMIN, card, "pay:full:1")
    await world.deliver()
    assert "G000001" in world.people[ADMIN].messages[-1].content


async def test_a_button_press_that_comes_with_a_photo_is_refused_politely(
        world: World) -> None:
    """Data of a real kind sent with the Jupyter QR code (a photo): the handler's edit of its
    text was refused by Telegram and became an error alert."""
    rental = await request(world, STUDENT_EN)
    world.press(ADMIN, next(m for m in world.people[ADMIN].messages if m.reply_markup),
                f"appr:{rental}")
    await world.deliver()
    photo = next(m for m in world.people[STUDENT_EN].messages if m.kind == "photo")
    for data in (f"ci:{rental}", f"rel:{rental}", f"ext:{rental}"):
        world.press(STUDENT_EN, photo, data)
        await world.deliver()
    assert [a.text for a in world.emu.callback_answers[-3:]] == [t("en", "button_bad")] * 3


async def test_a_refused_dialogue_button_leaves_the_dialogue_at_its_step(world: World) -> None:
    """A refused "ports" button moved the dialogue to the ports step: the next typed port
    list led to a summary priced for no GPUs (an error alert)."""
    await world.say(STUDENT_EN, "/request")
    await world.deliver()
    dialogue = world.people[STUDENT_EN].messages[-1]
    world.press(STUDENT_EN, dialogue, "rq:ports:pytorch")
    await world.deliver()
    await world.say(STUDENT_EN, "6006")
    await world.deliver()
    assert world.people[STUDENT_EN].messages[-1].content == t("en", "req_use_buttons")
    assert dialogue.content.startswith("1/6")


async def test_a_rental_number_in_non_ascii_digits_gets_the_usage(world: World) -> None:
    """``/rental ²`` passed ``isdigit()`` and crashed ``int()``: an error alert."""
    for command in ("/rental ²", "/rental R٣", "/audit R²"):
        await world.say(ADMIN, command)
        await world.deliver()
        assert world.people[ADMIN].messages[-1].content == t("en", "ac_rental_usage")
