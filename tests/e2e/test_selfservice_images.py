"""Images the bot does not control, end to end on the rig: no jupyter-lab, no sshd, and both
of Jupyter's token spellings (fake jupyter-lab scripts that accept only one)."""

from __future__ import annotations

import time

import pytest

from models.states import State
from models.tables import GpuAllocation, PortAllocation
from tests.e2e import images
from tests.e2e.harness import Harness, last_rental, request_rental, workspace
from tests.e2e.sshcheck import credentials_of, http_status_line, ssh

pytestmark = [pytest.mark.rig, pytest.mark.e2e]

NO_JUPYTER = "nvcr.io/nvidia/pytorch:20.12-nojupyter"
NO_SSHD = "nvcr.io/nvidia/pytorch:20.12-nosshd"
NOTEBOOK = "nvcr.io/nvidia/pytorch:20.12-notebook"
SERVER = "nvcr.io/nvidia/pytorch:24.01-server"
IMAGES = [{"key": "nojup", "name": "NoJupyter", "ref": NO_JUPYTER},
          {"key": "nosshd", "name": "NoSshd", "ref": NO_SSHD},
          {"key": "notebook", "name": "Notebook", "ref": NOTEBOOK},
          {"key": "server", "name": "Server", "ref": SERVER}]
QUICK = {"ready_timeout_s": 20}


async def approve(h: Harness, student_name: str, image: str, uid: int) -> float:
    boss, _ = await h.admins()
    student = await h.user(uid, student_name, "en")
    await request_rental(student, unit="hour", quantity=1, image=image)
    card = await boss.wait_message(predicate=lambda m: "Approve" in " ".join(m.buttons()))
    pressed = time.monotonic()
    await boss.press(card, "Approve")
    return pressed


@pytest.mark.config(images=IMAGES, rental=QUICK)
async def test_an_image_with_sshd_but_no_jupyter_gets_ssh_credentials_at_once(
        harness: Harness) -> None:
    images.derive(harness.rig, NO_JUPYTER, images.NO_JUPYTER)
    pressed = await approve(harness, "Qian", "NoJupyter", 1101)
    student = harness.person(1101)
    msg = await student.wait_message(contains="ssh root@", timeout=30)
    took = time.monotonic() - pressed
    assert took < 10, f"credentials took {took:.1f} s"
    assert "this image has no Jupyter" in msg.text and "token=" not in msg.text
    address, port = msg.text.split("ssh root@")[1].split()[0], msg.text.split(" -p ")[1].split()[0]
    password = msg.text.split("Password: ")[1].split()[0]
    assert (await ssh(address, int(port), password, "id -u")).strip() == "0"
    await harness.settle()
    assert not [m for m in student.messages if m.photo is not None
                and "Jupyter" in (m.caption or "")], "no Jupyter QR code without Jupyter"


@pytest.mark.config(images=IMAGES, rental=QUICK)
async def test_an_image_without_sshd_fails_within_seconds_with_the_reason(
        harness: Harness) -> None:
    images.derive(harness.rig, NO_SSHD, images.NO_SSHD)
    pressed = await approve(harness, "Feng", "NoSshd", 1102)
    student = harness.person(1102)
    told = await student.wait_message(contains="could not be started", timeout=15)
    assert time.monotonic() - pressed < 15
    assert "no OpenSSH server (sshd)" in told.text
    await harness.settle()
    rental = last_rental()
    assert rental.state == State.FAILED.value
    assert GpuAllocation.select().where(GpuAllocation.released_at.is_null()).count() == 0
    assert PortAllocation.select().where(PortAllocation.released_at.is_null()).count() == 0
    for engine in harness.rig.engines:
        assert engine.client().containers.list(all=True, filters={"label": "gpurent.rental"}) \
            == []


@pytest.mark.config(images=IMAGES, rental=QUICK)
@pytest.mark.parametrize(("name", "ref", "script"), [
    ("Notebook", NOTEBOOK, images.NOTEBOOK_ERA), ("Server", SERVER, images.SERVER_ERA)])
async def test_jupyter_gets_the_token_in_the_spelling_its_version_understands(
        harness: Harness, name: str, ref: str, script: str) -> None:
    images.derive(harness.rig, ref, script)
    await approve(harness, "Chu", name, 1103)
    student = harness.person(1103)
    creds = credentials_of(await student.wait_message(contains="ssh root@", timeout=30))
    jupyter_port = int(creds["url"].split(":")[2].split("/")[0])
    assert http_status_line(creds["address"], jupyter_port).startswith("HTTP/1.")
    token = creds["url"].split("token=")[1]
    saved = workspace(harness.rig, last_rental().host.name, 1103) / ".jupyter-token"
    assert saved.read_text() == token


async def test_the_admin_card_of_a_custom_image_without_sshd_says_it_is_not_rentable(
        harness: Harness) -> None:
    custom = "nvcr.io/lab/nosshd:1"
    images.derive(harness.rig, custom, images.NO_SSHD)
    boss, _ = await harness.admins()
    student = await harness.user(1104, "Wei", "en")
    await request_rental(student, unit="hour", quantity=1, image=custom)
    card = await boss.wait_message(predicate=lambda m: "Approve" in " ".join(m.buttons()))
    assert "Not rentable as it is" in card.text and "sshd" in card.text
