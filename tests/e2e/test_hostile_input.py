"""What any Telegram user can throw at the bot: refusals reach them (each button press answered
once), hostile text is echoed escaped and short, odd digits are refused, a flood is slowed down.
Every test ends with the emulator's check that Telegram would have refused nothing."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter
from handlers.ratelimit import LIMITER_KEY
from tests.botemu import BotMessage, EmuUser
from tests.e2e.harness import Harness, request_rental

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


def welcome(student: EmuUser) -> BotMessage:
    return next(m for m in student.messages if "Rent GPUs" in m.buttons())


@pytest.mark.config(rental={"maintenance": True})
async def test_request_button_in_maintenance_shows_the_reason(harness: Harness) -> None:
    student = await harness.user(8101, "Ali", "en")
    answer = await student.press(welcome(student), "Rent GPUs")
    assert answer is not None and answer.show_alert
    assert "maintenance" in (answer.text or "")
    await harness.settle()
    assert [m for m in student.messages if "1/6" in (m.text or "")] == []


async def test_request_button_with_a_pending_request_shows_it(harness: Harness) -> None:
    await harness.admins()
    student = await harness.user(8102, "Bo", "en")
    await request_rental(student)
    answer = await student.press(welcome(student), "Rent GPUs")
    assert answer is not None and answer.show_alert
    assert "waiting for approval" in (answer.text or "")


async def _to_custom_image(student: EmuUser) -> BotMessage:
    await student.send("/request")
    images = await student.wait_message(contains="1/6")
    await student.press(images, next(b for b in images.buttons() if "…" in b))
    return await student.wait_message(contains="nvcr.io", after=images)


async def test_hostile_image_references_are_echoed_escaped_and_refused(
        harness: Harness) -> None:
    admins = await harness.admins()
    student = await harness.user(8103, "Cai", "en")
    asked = await _to_custom_image(student)
    await student.send("nvcr.io/<b>" + "y" * 4000)  # Telegram lets a user send 4096
    bad = await student.wait_message(contains="not a valid image reference", after=asked)
    assert "<b>yyy" in bad.content and len(bad.content) < 600
    await student.send("docker.io/gpurent/r17:rev1")
    await student.wait_message(contains="gpurent/ are the bot's own", after=bad)
    await student.send("nvcr.io.evil.example/nvidia/pytorch")
    await student.wait_message(contains="are not allowed here", after=bad)
    await harness.settle()
    assert all("⚠️" not in (m.text or "") for admin in admins for m in admin.messages)


async def test_hostile_ports_and_foreign_digits_are_refused_in_plain_words(
        harness: Harness) -> None:
    admins = await harness.admins()
    student = await harness.user(8104, "Dai", "en")
    await student.send("/request")
    images = await student.wait_message(contains="1/6")
    await student.press(images, "PyTorch (NGC 20.12)")
    gpus = await student.wait_message(contains="2/6", after=images)
    await student.press(gpus, "1 ")
    plans = await student.wait_message(contains="hour", after=gpus)
    await student.press(plans, next(b for b in plans.buttons() if "hour" in b.lower()))
    asked = await student.wait_message(contains="3/6", after=plans)
    await student.send("²")
    refused = await student.wait_message(contains="whole number", after=asked)
    await student.send("٣")
    await student.wait_message(contains="whole number", after=refused)
    await student.send("２")
    await student.wait_message(contains="4/6", after=refused)
    await student.send("a purpose")
    ports = await student.wait_message(contains="5/6")
    await student.send("<b>6006</b>" + "<" * 4000)
    bad = await student.wait_message(contains="is not a port number", after=ports)
    assert "<b>6006</b><<<" in bad.content and len(bad.content) < 400
    await harness.settle()
    assert all("⚠️" not in (m.text or "") for admin in admins for m in admin.messages)


async def test_a_flooding_student_is_told_once_and_admins_are_exempt(harness: Harness) -> None:
    boss, _ = await harness.admins()
    student = await harness.user(8105, "Fan", "en")
    harness.app.bot_data[LIMITER_KEY] = RateLimiter(capacity=3, per_second=0.001,
                                                    clock=lambda: 0.0)
    for _ in range(8):
        await student.send("/help")
        await boss.send("/help")
    await harness.settle()
    helped = [m for m in student.messages if "How it works" in (m.text or "")]
    told = [m for m in student.messages if "too fast" in (m.text or "")]
    assert (len(helped), len(told)) == (3, 1)
    assert sum("How it works" in (m.text or "") for m in boss.messages) == 8
    answer = await student.press(welcome(student), "Rent GPUs")
    assert answer is not None and not answer.text  # dropped, but the spinner stopped
