"""Chat throughput: simulated students walk the whole ``/request`` dialogue at once through the
Bot API emulator (real HTTP, real long polling), against a bare python-telegram-bot echo bot
answering the same number of actions in the same run, each with and without PTB's
``AIORateLimiter``.

An action is what a student does (a text or a button press); its latency runs until the
bot's answer to it arrives. The product's bot runs as ``gpurent run`` builds it
(``bot.app.build_application``), on SQLite, with a Docker runtime that answers at once.

    .venv/bin/python -m benchmarks.chat [--students 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application

from benchmarks import echo_bot as echo
from bot.app import build_application
from bot.clock import SystemClock
from bot.config import Config, parse_config
from bot.services import Services
from models.db import close_database, open_database
from models.tables import Rental
from tests.botemu import BotApiEmulator, BotMessage, EmuUser
from tests.e2e.harness import request_rental

TOKEN = "424242:BENCH-gpurent-token"
ADMINS = (9001,)
ACTIONS = 8  # /request, image, GPUs, unit, quantity, purpose, ports, confirm
STEP_TIMEOUT = 120.0
App = Application[Any, Any, Any, Any, Any, Any]


class ChatRuntime:
    """Hosts that answer at once with 8 GPUs each: the chat is measured, not Docker."""

    async def ping(self, host: str) -> None:
        return None

    async def gpus(self, host: str) -> list[tuple[str, str, int]]:
        return [(str(i), "H200", 141 << 30) for i in range(8)]

    async def list_ours(self, host: str) -> list[tuple[str, dict[str, str], str]]:
        return []

    async def watch_deaths(self, host: str, listener: Any) -> None:
        await asyncio.Event().wait()

    def close(self) -> None:
        return None


@dataclass
class Timed:
    """A student whose every action is timed until the bot's first answer to it."""

    user: EmuUser
    latencies: list[float] = field(default_factory=list)
    _since: float | None = None

    async def send(self, text: str) -> Any:
        self._since = time.perf_counter()
        return await self.user.send(text)

    async def press(self, message: BotMessage, label: str) -> Any:
        self._since = time.perf_counter()
        return await self.user.press(message, label)

    async def wait_message(self, **kwargs: Any) -> BotMessage:
        kwargs.setdefault("timeout", STEP_TIMEOUT)
        found = await self.user.wait_message(**kwargs)
        if self._since is not None:
            self.latencies.append(time.perf_counter() - self._since)
            self._since = None
        return found


@dataclass
class ChatFigures:
    label: str
    students: int
    seconds: float
    latencies: list[float]
    errors: int
    recorded: str = "—"

    def row(self) -> str:
        lat = sorted(self.latencies) or [0.0]
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        return (f"| {self.label} | {self.students} | {rate:.0f} /s | "
                f"{statistics.median(lat):.2f} s | {p95:.2f} s | {self.errors} | {self.recorded} |")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def bot_config(emu: BotApiEmulator) -> Config:
    return parse_config({
        "timezone": "Asia/Shanghai", "language": "en",
        "telegram": {"token_env": "GPURENT_BENCH_TOKEN", "api_base_url": emu.base_url,
                     "api_file_url": emu.base_file_url, "admins": list(ADMINS)},
        "hosts": [{"name": f"h{i}", "gpus": [str(g) for g in range(8)],
                   "public_address": f"10.0.0.{i + 1}"} for i in range(4)],
        "images": [{"key": "pytorch", "name": "PyTorch",
                    "ref": "nvcr.io/nvidia/pytorch:24.01-py3"}],
        "lifecycle": {"daily_summary": False, "admin_digest": False},
    })


async def _start(app: App) -> None:
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)


async def _stop(app: App) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


def _people(emu: BotApiEmulator, students: int, first_id: int) -> list[Timed]:
    return [Timed(emu.user(id=first_id + i, first_name=f"S{i}", username=f"s{i}",
                           language_code="en")) for i in range(students)]


async def _crowd(people: list[Timed], walk: Callable[[Timed], Awaitable[Any]]
                 ) -> tuple[float, list[float], int]:
    t0 = time.perf_counter()
    results = await asyncio.gather(*(walk(p) for p in people), return_exceptions=True)
    elapsed = time.perf_counter() - t0
    errors = sum(isinstance(r, BaseException) for r in results)
    return elapsed, [x for p in people for x in p.latencies], errors


async def _hello(person: Timed) -> None:
    await person.user.send("/start")
    await person.user.wait_message(contains="S", timeout=STEP_TIMEOUT)


async def through_the_bot(students: int, limiter: bool) -> ChatFigures:
    with tempfile.TemporaryDirectory() as tmp:
        open_database(f"sqlite:///{tmp}/chat.db")
        try:
            async with BotApiEmulator(token=TOKEN) as emu:
                services = Services(config=bot_config(emu), clock=SystemClock(),
                                    runtime=ChatRuntime(), tick_seconds=0)  # type: ignore[arg-type]
                app = build_application(services, TOKEN)
                if not limiter:
                    app.bot._rate_limiter = None  # the same bot, the limiter taken out
                await _start(app)
                admin = Timed(emu.user(id=ADMINS[0], first_name="Boss", language_code="en"))
                people = [admin, *_people(emu, students, 10_000)]
                await _crowd(people, _hello)  # known users: not timed
                for person in people:
                    person.latencies.clear()

                async def walk(person: Timed) -> None:
                    await request_rental(person, unit="hour", quantity=2)  # type: ignore[arg-type]

                seconds, lat, errors = await _crowd(people[1:], walk)
                await services.idle()
                await _stop(app)
            made = Rental.select().count()
            owners = Rental.select(Rental.user).distinct().count()
        finally:
            close_database()
    label = "gpurent" + (" + AIORateLimiter" if limiter else "")
    return ChatFigures(label, students, seconds, lat, errors,
                       f"{made} requests, {owners} students")


async def _echo_walk(person: Timed) -> None:
    """The same shape as /request: three texts and five presses, each waiting its answer."""
    last = None
    for step in ("/request", "go", "go", "go", "2", "a purpose", "go", "go"):
        if step == "go" and last is not None:
            await person.press(last, "go")
        else:
            await person.send(step)
        last = await person.wait_message(after=last) if last else await person.wait_message()


async def echo_bot(students: int, limiter: bool) -> ChatFigures:
    async with BotApiEmulator(token=TOKEN) as emu:
        app = echo.build(TOKEN, emu.base_url, limiter)
        await _start(app)
        seconds, lat, errors = await _crowd(_people(emu, students, 20_000), _echo_walk)
        await _stop(app)
    label = "bare PTB echo bot" + (" + AIORateLimiter" if limiter else "")
    return ChatFigures(label, students, seconds, lat, errors)


def run(students: int, small: int = 50) -> list[str]:
    os.environ["GPURENT_BENCH_TOKEN"] = TOKEN
    lines = ["| bot | students at once | actions/s | step median | step p95 | errors | recorded |",
             "|---|---|---|---|---|---|---|"]
    figures: dict[tuple[str, bool, int], ChatFigures] = {}
    for crowd, limiter in ((students, False), (students, True), (small, True)):
        for name, runner in (("echo", echo_bot), ("bot", through_the_bot)):
            fig = asyncio.run(runner(crowd, limiter))
            figures[name, limiter, crowd] = fig
            lines.append(fig.row())
            print(lines[-1], flush=True)
    lines.append("")
    for limiter, crowd in ((False, students), (True, students), (True, small)):
        ratio = figures["bot", limiter, crowd].rate / figures["echo", limiter, crowd].rate
        lines.append(f"- {crowd} students{', rate limited' if limiter else ''}: "
                     f"{ratio:.2f}× the echo bot's actions/s")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--small", type=int, default=50)
    args = parser.parse_args()
    run(args.students, args.small)


if __name__ == "__main__":
    main()
