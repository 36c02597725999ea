"""The spine: /request → Approve → a container on the rig → SSH with the password sent."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image

from models.states import State
from models.tables import GpuAllocation, Rental
from tests.e2e.harness import Harness, rent, request_rental, workspace
from tests.e2e.sshcheck import credentials_of, http_status_line, ssh

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


def decode_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert results, "no QR code found in the photo"
    return str(results[0].text)


async def test_request_approve_and_log_in_over_ssh(harness: Harness) -> None:
    boss, other = await harness.admins()
    student = await harness.user(1001, "Li", "zh")
    submitted = await request_rental(student, gpus=2, unit="hour", quantity=3)
    assert "R1" in submitted.text
    card = await boss.wait_message(contains="R1")
    other_card = await other.wait_message(contains="R1")
    assert "Li (@li)" in card.text and "train a ResNet" in card.text and "¥10.80" in card.text
    assert "HPC1" in card.text  # both hosts free: the first one that fits

    pressed = time.monotonic()
    await boss.press(card, "Approve")
    creds_msg = await student.wait_message(contains="ssh root@", timeout=60)
    print(f"\napprove -> credentials: {time.monotonic() - pressed:.2f} s")
    creds = credentials_of(creds_msg)

    rental = Rental.get_by_id(1)
    assert rental.state == State.ACTIVE.value and rental.host.name == "HPC1"
    engine = harness.rig.engine("HPC1")
    inspect = engine.client().api.inspect_container(rental.container_id)
    requests = inspect["HostConfig"]["DeviceRequests"]
    assert requests[0]["DeviceIDs"] == ["0", "1"]
    assert creds["address"] == engine.address

    out = await ssh(creds["address"], int(creds["port"]), creds["password"],
                    "id -u && echo from-the-container > /workspace/hello.txt")
    assert out.strip() == "0"
    saved = workspace(harness.rig, "HPC1", 1001) / "hello.txt"
    assert saved.read_text() == "from-the-container\n"
    jupyter_port = int(creds["url"].split(":")[2].split("/")[0])
    assert http_status_line(creds["address"], jupyter_port).startswith("HTTP/1.")

    photo = await student.wait_message(
        predicate=lambda m: m.photo is not None and "Jupyter" in (m.caption or ""))
    assert photo.photo is not None and decode_qr(photo.photo) == creds["url"]

    # the password is nowhere but in that one message
    assert creds["password"] not in str(inspect)
    assert creds["password"] not in rental.password_hash
    closed = await other.wait_message(contains="Approved by Admin0", after=other_card)
    assert closed.buttons() == []  # every admin's card shows the decision, no buttons left


async def test_two_admins_pressing_at_once_decide_once(harness: Harness) -> None:
    boss, other = await harness.admins()
    student = await harness.user(1002, "Wang", "en")
    await request_rental(student, unit="hour", quantity=1)
    card_a = await boss.wait_message(contains="R1")
    card_b = await other.wait_message(contains="R1")
    await asyncio.gather(boss.press(card_a, "Approve"), other.press(card_b, "Reject"))
    await harness.settle()
    answers = [a.text or "" for a in harness.emu.callback_answers]
    assert sum("Already decided by Admin0" in a for a in answers) == 1, answers
    assert Rental.get_by_id(1).state == State.ACTIVE.value
    closed = await other.wait_message(contains="Approved by Admin0", after=card_b)
    assert closed.buttons() == []
    assert len(harness.rig.engine("HPC1").client().containers.list()) == 1


async def test_non_admin_cannot_press_a_card(harness: Harness) -> None:
    boss, _ = await harness.admins()
    student = await harness.user(1003, "Zhao", "en")
    await request_rental(student, unit="hour", quantity=1)
    card = await boss.wait_message(contains="R1")
    intruder = await harness.user(1004, "Mallory", "en")
    await intruder.press(card, "Approve")
    assert any("Only lab admins" in (a.text or "") for a in harness.emu.callback_answers)
    assert Rental.get_by_id(1).state == State.PENDING.value
    assert GpuAllocation.select().count() == 0


async def test_password_message_is_deleted_after_the_announced_time(harness: Harness) -> None:
    boss, _ = await harness.admins()
    await rent(harness, boss, 1010, unit="day", quantity=3)
    student = harness.person(1010)
    creds = await student.wait_message(contains="ssh root@")
    qr = await student.wait_message(predicate=lambda m: m.photo is not None
                                    and "Jupyter" in (m.caption or ""))
    assert "will be deleted" in creds.text
    harness.clock.advance(timedelta(hours=23, minutes=59))
    await harness.tick()
    assert not creds.deleted and not qr.deleted
    harness.clock.advance(timedelta(minutes=2))
    await harness.tick()
    assert creds.deleted and qr.deleted
    await harness.tick()  # a second tick has nothing left to delete
    assert not harness.emu.errors


async def test_reject_with_a_typed_reason(harness: Harness) -> None:
    boss, other = await harness.admins()
    student = await harness.user(1020, "Sun", "zh")
    await request_rental(student, unit="hour", quantity=1)
    card = await boss.wait_message(contains="R1")
    await boss.press(card, "Reject")
    reasons = await boss.wait_message(predicate=lambda m: "Other (type a reason)" in m.buttons())
    await boss.press(reasons, "Other (type a reason)")
    await boss.wait_message(contains="Type the reason")
    await boss.send("GPUs reserved for the <workshop> this week")
    told = await student.wait_message(contains="被拒绝")
    assert "GPUs reserved for the <workshop> this week" in told.text
    closed = await other.wait_message(contains="Rejected by Admin0")
    assert closed.buttons() == [] and "<workshop>" in closed.text
    assert Rental.get_by_id(1).state == State.REJECTED.value
    assert GpuAllocation.select().count() == 0
