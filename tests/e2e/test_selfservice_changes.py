"""Paid changes and SSH keys end to end on the rig, through the emulator, with real SSH:
a new image keeps /workspace and shows up in /bill, an added port answers, a key logs in
(and, with keys only, the password no longer does)."""

from __future__ import annotations

import asyncio
import io

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from models.tables import Rental
from tests.botemu import BotMessage, EmuUser
from tests.e2e import images
from tests.e2e.harness import Harness, rent
from tests.e2e.sshcheck import http_status_line, login_fails, ssh

pytestmark = [pytest.mark.rig, pytest.mark.e2e]

MARKED = "nvcr.io/nvidia/tensorflow:20.12-marked"
IMAGES = [{"key": "pytorch", "name": "PyTorch (NGC 20.12)",
           "ref": "nvcr.io/nvidia/pytorch:20.12-py3"},
          {"key": "marked", "name": "Marked", "ref": MARKED}]


def password_of(message: BotMessage) -> str:
    return message.text.split("Password: ")[1].split()[0]


def login(message: BotMessage) -> tuple[str, int]:
    address, port = message.text.split("ssh root@")[1].split()[0], message.text.split(" -p ")[1]
    return address, int(port.split()[0])


async def ask_change(student: EmuUser, ref: str, button: str) -> BotMessage:
    await student.send("/my")
    card = await student.wait_message(predicate=lambda m: ref in m.content
                                      and button in " ".join(m.buttons()))
    await student.press(card, button)
    return card


async def send_and_approve(h: Harness, student: EmuUser, boss: EmuUser, ref: str,
                           after: BotMessage) -> None:
    confirm = await student.wait_message(
        predicate=lambda m: "Send to the admins" in " ".join(m.buttons()), after=after)
    assert "¥30.00" in confirm.text
    await student.press(confirm, "Send to the admins")
    await student.wait_message(contains="an admin will decide")
    card = await boss.wait_message(predicate=lambda m: f"Change of {ref}" in m.content
                                   and "Approve" in " ".join(m.buttons()))
    await boss.press(card, "Approve")


@pytest.mark.config(images=IMAGES)
async def test_an_image_change_keeps_the_workspace_uses_the_new_image_and_bills_the_fee(
        harness: Harness) -> None:
    images.derive(harness.rig, MARKED, "echo marked > /etc/image-marker")
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 1301)
    student = harness.person(1301)
    first = await student.wait_message(contains="ssh root@")
    address, port = login(first)
    await ssh(address, port, password_of(first), "echo mine > /workspace/keep.txt")

    card = await ask_change(student, rental.ref, "Change image")
    menu = await student.wait_message(predicate=lambda m: "Marked" in " ".join(m.buttons()),
                                      after=card)
    await student.press(menu, "Marked")
    await send_and_approve(harness, student, boss, rental.ref, menu)
    await student.wait_message(contains="now runs the new image", timeout=90)
    fresh = await student.wait_message(contains="ssh root@", after=first)
    new = password_of(fresh)
    assert login(fresh) == (address, port) and new != password_of(first)
    assert await ssh(address, port, new, "cat /workspace/keep.txt") == "mine\n"
    assert await ssh(address, port, new, "cat /etc/image-marker") == "marked\n"
    assert Rental.get_by_id(rental.id).image_ref == MARKED
    asked = await student.send("/bill")
    bill = await student.wait_message(predicate=lambda m: m.text is not None
                                      and "Your bill" in m.text, after=asked)
    assert "image change of" in bill.text and "¥30.00 due" in bill.text


async def test_an_added_port_is_published_and_answers(harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 1302)
    student = harness.person(1302)
    first = await student.wait_message(contains="ssh root@")
    card = await ask_change(student, rental.ref, "Change ports")
    await student.wait_message(contains="Send the extra container ports", after=card)
    typed = await student.send("6006")
    await send_and_approve(harness, student, boss, rental.ref, typed)  # type: ignore[arg-type]
    await student.wait_message(contains="publishes the new ports", timeout=90)
    fresh = await student.wait_message(contains="Port 6006 → host port", after=first)
    outer = int(fresh.text.split("Port 6006 → host port ")[1].split()[0])
    address, port = login(fresh)
    token = fresh.text.split("token=")[1].split()[0]
    assert await ssh(address, port, password_of(fresh), "cat /etc/gpurent/jupyter-token") == token
    await ssh(address, port, password_of(fresh),
              "cd /workspace && (nohup python3 -m http.server 6006 >/dev/null 2>&1 &)")
    await asyncio.sleep(1.0)
    assert http_status_line(address, outer).startswith("HTTP/1.")


def new_key() -> tuple[str, paramiko.PKey]:
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    return public, paramiko.Ed25519Key.from_private_key(io.StringIO(pem))


def key_login(address: str, port: int, key: paramiko.PKey) -> str:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(address, port=port, username="root", pkey=key, timeout=15,
                   allow_agent=False, look_for_keys=False, banner_timeout=15)
    try:
        _, stdout, _ = client.exec_command("stat -c '%U %a' /root/.ssh /root/.ssh/authorized_keys")
        return stdout.read().decode()
    finally:
        client.close()


@pytest.mark.config(rental={"keys_only_when_keyed": True})
async def test_an_added_key_logs_in_and_keys_only_refuses_the_password(
        harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 1303)
    student = harness.person(1303)
    creds = await student.wait_message(contains="ssh root@")
    address, port = login(creds)
    public, key = new_key()
    await student.send(public + " me@laptop")
    added = await student.wait_message(contains="Key added")
    assert rental.ref in added.text
    modes = await asyncio.to_thread(key_login, address, port, key)
    assert modes.split("\n")[:2] == ["root 700", "root 600"]
    assert await asyncio.to_thread(login_fails, address, port, password_of(creds))
    await student.send("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 short")
    refused = await student.wait_message(contains="not an SSH public key", after=added)
    assert refused.text

    # The last key removed: the key stops working and a new password comes (not locked out).
    await student.send("/keys")
    listing = await student.wait_message(predicate=lambda m: "Remove key 1" in m.buttons())
    await student.press(listing, "Remove key 1")
    fresh = await student.wait_message(contains="ssh root@", after=listing, timeout=30)
    assert (await ssh(address, port, password_of(fresh), "id -u")).strip() == "0"
    with pytest.raises(paramiko.AuthenticationException):
        await asyncio.to_thread(key_login, address, port, key)
