"""Secrets stay secret with the log at DEBUG: a whole rental and a handler that fails while
holding them leave neither the root password, the Jupyter token nor the bot token in any log
line, and in no chat message but the credentials themselves."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from telegram import Update
from telegram.ext import CommandHandler

from bot.logsafe import redact_everywhere
from tests.e2e.harness import TOKEN, Harness, rent
from tests.e2e.sshcheck import credentials_of

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Every record at DEBUG, through the formatter `gpurent run` installs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    redact_everywhere(TOKEN)  # what `gpurent run` does with the token it read
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_no_secret_in_any_log_line_or_other_message(harness: Harness,
                                                          debug_log: io.StringIO) -> None:
    h = harness
    admin, _ = await h.admins()
    await rent(h, admin, 3301)
    student = h.person(3301)
    credentials = await student.wait_message(contains="Password")
    login = credentials_of(credentials)
    token = re.search(r"token=([\w-]+)", login["url"])
    assert token
    secrets = {"root password": login["password"], "Jupyter token": token.group(1),
               "bot token": TOKEN, "bot token's secret": TOKEN.split(":", 1)[1]}

    async def fail(update: Update, context: object) -> None:
        raise RuntimeError(f"boom: password={login['password']} url={login['url']} "
                           f"api=https://api.telegram.org/bot{TOKEN}/getMe")

    h.app.add_handler(CommandHandler("boom", fail), group=-2)
    await student.send("/boom")
    await admin.wait_message(contains="RuntimeError", timeout=10)
    await h.settle()

    log = debug_log.getvalue()
    assert "boom" in log and "error while handling an update" in log  # the failure was logged
    for name, secret in secrets.items():
        assert secret not in log, f"{name} in the log"
    carriers = {credentials.message_id}
    for chat in h.emu.chats.values():
        for message in chat.messages:
            if chat.id == 3301 and message.message_id in carriers:
                continue
            text = (message.raw_text or "") + (message.text or "")
            for name, secret in secrets.items():
                assert secret not in text, f"{name} in chat {chat.id}: {text[:200]}"
