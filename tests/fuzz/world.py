"""The world the chat fuzz drives: the real Application (as ``build_application`` makes it)
talking to the Bot API emulator over HTTP, on a fake container runtime and a fresh SQLite
database, with a frozen clock the fuzz moves.

Updates are taken from the emulator's queue and handed to ``Application.process_update``
directly instead of long polling, so a step is over when its handlers and the background work
they spawned are done: no waiting for the chat to look quiet, thousands of steps a minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from telegram import Update
from telegram.ext import AIORateLimiter, Application

from bot import app as app_module
from bot.clock import FrozenClock
from bot.config import Config, parse_config
from bot.jobs import run_tick
from bot.ports import ContainerDeath
from bot.ratelimit import RateLimiter
from bot.services import Services
from handlers import ratelimit
from models.db import close_database, open_database
from tests.botemu import BotApiEmulator, EmuUser, UserMessage
from tests.unit.test_lifecycle import START, FakeRuntime

TOKEN = "424242:FUZZ-gpurent-token"
ADMINS = {9001: "en", 9002: "zh"}
STUDENTS = {1001: "zh", 1002: "en", 1003: None, 1004: "en-US"}
NAMES = {9001: "Grace", 9002: "Lin", 1001: "Wei", 1002: "Ada", 1003: "Nolang", 1004: "Bob"}
App = Application[Any, Any, Any, Any, Any, Any]


class FuzzRuntime(FakeRuntime):
    """The unit tests' fake runtime, with event streams the fuzz can make containers die on."""

    listeners: dict[str, Any]

    async def watch_deaths(self, host: str, on_death: Any) -> None:
        self.listeners[host] = on_death
        await asyncio.Event().wait()  # lasts as long as the bot

    def kill(self, cid: str) -> bool:
        box = self.boxes.get(cid)
        if box is None or box.state != "running" or box.host not in self.listeners:
            return False
        box.state = "exited"
        rental = box.spec.labels.get("gpurent.rental", "")
        self.listeners[box.host](ContainerDeath(cid, int(rental) if rental.isdigit() else None,
                                                "die", 137))
        return True


def fuzz_config(emu: BotApiEmulator, workdir: Path) -> Config:
    hosts = [{"name": name, "gpus": ["0", "1", "2", "3"], "workspace_root": f"/data/{name}",
              "port_range": ports} for name, ports in (("h1", [20000, 20011]),
                                                       ("h2", [21000, 21007]))]
    return parse_config({
        "timezone": "Asia/Shanghai", "language": "zh",
        "telegram": {"api_base_url": emu.base_url, "api_file_url": emu.base_file_url,
                     "admins": list(ADMINS)},
        "database": {"url": f"sqlite:///{workdir / 'fuzz.db'}"},
        "hosts": hosts,
        "images": [{"key": "pytorch", "name": "PyTorch (NGC 20.12)",
                    "ref": "nvcr.io/nvidia/pytorch:20.12-py3"},
                   {"key": "tf2", "name": "TensorFlow 2 (NGC 20.12)",
                    "ref": "nvcr.io/nvidia/tensorflow:20.12-tf2-py3"}],
        "rental": {"registry_allow": ["nvcr.io", "docker.io"]},
    }, "fuzz.toml")


def _unthrottled(max_retries: int = 0) -> AIORateLimiter:
    """Telegram's 30 messages a second would make the fuzz crawl; the emulator has no limit."""
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)


@contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Every ERROR record while the bot runs: the error handler, a failed background task."""
    found: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found.append(record)

    keeper = Keep(logging.ERROR)
    root = logging.getLogger()
    root.addHandler(keeper)
    try:
        yield found
    finally:
        root.removeHandler(keeper)


class World:
    """One sequence's bot, chat and database; ``await start()`` before use, ``stop()`` after."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.emu = BotApiEmulator(token=TOKEN)
        self.clock = FrozenClock(START)
        self.runtime = FuzzRuntime()
        self.runtime.listeners = {}
        self.people: dict[int, EmuUser] = {}
        self.sent: dict[int, list[UserMessage]] = {}

    async def start(self) -> None:
        await self.emu.start()
        self.config = fuzz_config(self.emu, self.workdir)
        open_database(self.config.database_url)
        self.services = Services(config=self.config, clock=self.clock, runtime=self.runtime,
                                 tick_seconds=0)
        with mock.patch.object(app_module, "AIORateLimiter", _unthrottled):
            self.app: App = app_module.build_application(self.services, TOKEN)
        self.app.bot_data[ratelimit.LIMITER_KEY] = RateLimiter(
            clock=lambda: self.clock.now().timestamp())
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        for uid in (*ADMINS, *STUDENTS):
            lang = ADMINS.get(uid) or STUDENTS.get(uid)
            self.people[uid] = self.emu.user(id=uid, first_name=NAMES[uid],
                                             username=NAMES[uid].lower(), language_code=lang,
                                             started=True)
            self.sent[uid] = []

    async def stop(self) -> None:
        await self.services.stop_watching()
        await self.services.idle()
        await self.app.shutdown()
        await self.emu.stop()
        close_database()

    # --- what people do ------------------------------------------------------------------

    async def say(self, uid: int, text: str) -> None:
        self.sent[uid].append(await self.people[uid].send(text))

    def press(self, uid: int, message: Any, data: str) -> None:
        self.emu.callback_query(self.people[uid], message, data)

    def send_document(self, uid: int, filename: str, data: bytes, caption: str) -> None:
        user, emu = self.people[uid], self.emu
        user.started = True
        stored = emu.store_file(data, filename, "document")
        message = UserMessage(user.next_message_id(), uid, uid, emu.next_seq(), caption)
        user.history.append(message)
        document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                    "file_size": len(data), "file_name": filename}
        payload: dict[str, Any] = {"message_id": message.message_id, "from": user.api_user(),
                                   "chat": user.api_chat(), "date": emu.now(),
                                   "document": document}
        if caption:
            payload["caption"] = caption
        emu.enqueue("message", payload)

    def edit(self, uid: int, text: str) -> bool:
        """The user edits one of their earlier texts (Telegram sends ``edited_message``)."""
        if not self.sent[uid]:
            return False
        user, old = self.people[uid], self.sent[uid][-1]
        payload = {"message_id": old.message_id, "from": user.api_user(),
                   "chat": user.api_chat(), "date": self.emu.now() - 5,
                   "edit_date": self.emu.now(), "text": text}
        self.emu.enqueue("edited_message", payload)
        return True

    async def deliver(self, together: bool = False) -> int:
        """Hand every queued update to the bot, then wait for the work it spawned. With
        ``together``, the updates are handled concurrently (as for different users)."""
        updates = self.emu.pending_updates()
        if updates:
            self.emu.confirm(updates[-1]["update_id"] + 1)
        parsed = [Update.de_json(raw, self.app.bot) for raw in updates]
        if together:
            await asyncio.gather(*(self.app.process_update(u) for u in parsed))
        else:
            for update in parsed:
                await self.app.process_update(update)
        await self.services.idle()
        return len(parsed)

    async def kill(self, cid: str) -> None:
        """The container stops by itself (a crash, the OOM killer): the engine reports it."""
        if self.runtime.kill(cid):
            await self.services.idle()

    async def tick(self, minutes: float) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))
        await run_tick(self.services)
        await self.services.idle()
