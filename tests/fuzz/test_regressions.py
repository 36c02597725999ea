"""Each failure the chat fuzz found, replayed as one focused test on the same world (the real
bot, the emulator, a fake runtime)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import t
from tests.fuzz import checks
from tests.fuzz.world import World, errors_logged

STUDENT_ZH, STUDENT_EN, ADMIN = 1001, 1002, 9001


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
