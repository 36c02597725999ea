"""A bug in a handler: the user gets a plain apology (no stack trace), the admins an alert."""

from __future__ import annotations

import pytest

from bot.usecases import release
from tests.e2e.harness import Harness

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


async def test_unexpected_error_is_apologised_for_and_reported(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    boss, _ = await harness.admins()
    student = await harness.user(8001, "Li", "zh")

    def broken(user: object) -> list[object]:
        raise RuntimeError("database fell over")

    monkeypatch.setattr(release, "my_rentals", broken)
    await student.send("/my")
    sorry = await student.wait_message(contains="抱歉")
    assert "Traceback" not in sorry.text and "database fell over" not in sorry.text
    alert = await boss.wait_message(contains="database fell over")
    assert alert.text.startswith("⚠️") and "RuntimeError" in alert.text


async def test_unknown_command_gets_a_pointer_to_help(harness: Harness) -> None:
    student = await harness.user(8002, "Anna", "en")
    await student.send("/rentme")
    await student.wait_message(contains="/help lists what I can do")
    await student.send("/help")
    await student.wait_message(contains="How it works")
    await harness.settle()
    assert sum("/help lists" in (m.text or "") for m in student.messages) == 1


async def test_typing_where_a_tap_is_wanted_and_stale_buttons(harness: Harness) -> None:
    student = await harness.user(8003, "Zhou", "en")
    await student.send("/request")
    images = await student.wait_message(contains="1/6")
    await student.send("pytorch please")
    await student.wait_message(contains="Please use the buttons above")
    await student.send("/cancel")
    await student.wait_message(contains="Cancelled")
    await student.press(images, "PyTorch (NGC 20.12)")  # the dialogue is over
    await harness.settle()
    assert any("out of date" in (a.text or "") for a in harness.emu.callback_answers)
    assert [m for m in student.messages if "2/6" in (m.text or "")] == []


async def test_cancel_with_nothing_open_says_so(harness: Harness) -> None:
    student = await harness.user(8004, "Qian", "en")
    await student.send("/cancel")
    await student.wait_message(contains="nothing to cancel")
