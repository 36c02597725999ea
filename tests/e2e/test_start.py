"""A student's first contact: /start over the emulator, in their language, with the menu."""

from __future__ import annotations

import pytest

from tests.e2e.harness import ADMIN_IDS, Harness

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


async def test_chinese_client_gets_a_chinese_welcome(harness: Harness) -> None:
    student = harness.emu.user(id=1001, first_name="小李", language_code="zh-hans")
    await student.send("/start")
    welcome = await student.wait_message(contains="小李")
    assert "你好" in welcome.text and "/request" in welcome.text
    assert welcome.buttons() == ["租用 GPU"]


async def test_other_languages_get_english(harness: Harness) -> None:
    student = harness.emu.user(id=1002, first_name="Anna", language_code="de")
    await student.send("/start")
    welcome = await student.wait_message(contains="Anna")
    assert welcome.text.startswith("Hello Anna")
    assert welcome.buttons() == ["Rent GPUs"]


async def test_command_menu_is_set_per_language(harness: Harness) -> None:
    zh = dict(harness.emu.commands(language_code="zh"))
    en = dict(harness.emu.commands(language_code="en"))
    assert zh["request"] == "租用 GPU" and en["request"] == "Rent GPUs"
    assert set(zh) == set(en) >= {"start", "request", "my", "help", "cancel"}


async def test_admins_get_their_own_menu(harness: Harness) -> None:
    admin = harness.emu.user(id=ADMIN_IDS[0], first_name="Boss", language_code="en")
    await admin.send("/start")
    welcome = await admin.wait_message(contains="Boss")
    assert "admin" in welcome.text
    menu = dict(harness.emu.commands(scope={"type": "chat", "chat_id": ADMIN_IDS[0]}))
    assert "pending" in menu and "hosts" in menu


async def test_names_with_html_are_shown_escaped(harness: Harness) -> None:
    student = harness.emu.user(id=1003, first_name="<b>Eve</b>", language_code="en")
    await student.send("/start")
    welcome = await student.wait_message(contains="Eve")
    assert "<b>Eve</b>" in welcome.text  # shown literally, not as bold
