"""The whole product on the test rig: the Application that ``gpurent run`` builds, long polling
the Bot API emulator, two Docker engines as HPC1/HPC2, a fresh SQLite database."""

from __future__ import annotations

import asyncio
import re
import resource
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import build_application
from bot.clock import FrozenClock
from bot.config import Config, parse_config
from bot.jobs import run_tick
from bot.runner import make_services
from bot.services import Services
from models.tables import Rental
from tests.botemu import BotApiEmulator, BotMessage, EmuUser
from tests.rig.rig import Rig

TOKEN = "424242:TEST-gpurent-token"
ADMIN_IDS = (9001, 9002)
PORT_RANGES = {"HPC1": [21000, 21099], "HPC2": [22000, 22099]}


def rig_config(rig: Rig, emu: BotApiEmulator, db_url: str, **overrides: Any) -> Config:
    data: dict[str, Any] = {
        "timezone": "Asia/Shanghai", "language": "zh",
        "telegram": {"token_env": "GPURENT_TEST_TOKEN", "api_base_url": emu.base_url,
                     "api_file_url": emu.base_file_url, "admins": list(ADMIN_IDS)},
        "database": {"url": db_url},
        "hosts": [{"name": e.name, "docker_url": e.docker_url, "public_address": e.address,
                   "gpus": list(e.gpu_ids), "port_range": PORT_RANGES[e.name],
                   "workspace_root": str(e.workspace_root), "shm_size": "64m",
                   "memory_per_gpu": "512m", "cpus_per_gpu": 0.5,
                   # this sandbox's dockerd cannot raise memlock past its own hard limit
                   "memlock": resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]}
                  for e in rig.engines],
        "images": [{"key": "pytorch", "name": "PyTorch (NGC 20.12)",
                    "ref": "nvcr.io/nvidia/pytorch:20.12-py3"},
                   {"key": "tf2", "name": "TensorFlow 2 (NGC 20.12)",
                    "ref": "nvcr.io/nvidia/tensorflow:20.12-tf2-py3"}],
        "rental": {"ready_timeout_s": 45, "registry_allow": ["nvcr.io", "docker.io",
                                                            rig.registry]},
        # Daily messages follow the real lab clock; tests that want them switch them on.
        "lifecycle": {"daily_summary": False, "admin_digest": False},
    }
    for key, given in overrides.items():
        value = given(rig) if callable(given) else given  # (rig) -> table: the rig's values
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return parse_config(data, "rig-test.toml")


@dataclass
class Harness:
    rig: Rig
    emu: BotApiEmulator
    config: Config
    clock: FrozenClock
    services: Services = field(init=False)
    app: Application = field(init=False)  # type: ignore[type-arg]
    people: dict[int, EmuUser] = field(default_factory=dict)

    async def start(self) -> None:
        self.services = make_services(self.config, self.clock)
        self.services.tick_seconds = 0  # tests drive the tick with the clock
        self.app = build_application(self.services, TOKEN)
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)  # run_polling would; we start by hand
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0, timeout=1)

    async def stop(self) -> None:
        await self.services.stop_watching()
        await self.services.idle()
        assert self.app.updater is not None
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()
        self.services.runtime.close()

    async def user(self, uid: int, name: str, lang: str = "zh") -> EmuUser:
        """A person who has started the bot (the same one again for a known id)."""
        if uid in self.people:
            return self.people[uid]
        user = self.emu.user(id=uid, first_name=name, username=name.lower(),
                             language_code=lang)
        await user.send("/start")
        await user.wait_message(contains=name)
        self.people[uid] = user
        return user

    def person(self, uid: int) -> EmuUser:
        return self.people[uid]

    async def admins(self) -> list[EmuUser]:
        return [await self.user(uid, f"Admin{i}", "en") for i, uid in enumerate(ADMIN_IDS)]

    async def tick(self) -> dict[str, Any]:
        result = await run_tick(self.services)
        await self.services.idle()
        return result

    async def settle(self) -> None:
        """Let the chat and background work (provisioning) go quiet; a handler may still be
        about to spawn work when the chat looks idle, so check both until both are quiet."""
        for _ in range(3):
            await self.emu.wait_idle(quiet=0.15)
            await self.services.idle()
        await self.emu.wait_idle(quiet=0.15)


async def request_rental(student: EmuUser, gpus: int = 1, unit: str = "hour",
                         quantity: int = 2, purpose: str = "train a ResNet",
                         image: str = "PyTorch") -> BotMessage:
    """Walk the /request dialogue by buttons and typed answers; returns the 'submitted' text.
    An ``image`` with a '/' is typed as a custom image reference."""
    await student.send("/request")
    msg = await student.wait_message(predicate=_has_data("rq:img:"))
    if "/" in image:
        await student.press(msg, next(b for b in msg.buttons() if "…" in b))
        await student.wait_message(predicate=lambda m: "nvcr.io" in m.content, after=msg)
        await student.send(image)
    else:
        await student.press(msg, image)
    msg = await student.wait_message(predicate=_has_button(f"{gpus} "), after=msg)
    await student.press(msg, f"{gpus} ")
    unit_label = {"hour": ("小时", "hour"), "day": ("天", "day")}[unit]
    msg = await student.wait_message(predicate=_has_any(unit_label), after=msg)
    await student.press(msg, next(u for u in unit_label if u in " ".join(msg.buttons())))
    await student.wait_message(predicate=_has_data("rq:qty:"), after=msg)
    await student.send(str(quantity))
    await student.wait_message(contains="4/6")
    await student.send(purpose)
    ports = await student.wait_message(contains="5/6")
    await student.press(ports, next(b for b in ports.buttons() if "端口" in b or "ports" in b))
    summary = await student.wait_message(contains="6/6", after=ports)
    await student.press(summary, "✅")
    return await student.wait_message(predicate=lambda m: "R" in m.content and (
        "submitted" in m.content or "已提交" in m.content))


def _has_button(prefix: str) -> Any:
    return lambda m: any(b.startswith(prefix) for b in m.buttons())


def _has_data(prefix: str) -> Any:
    return lambda m: any(b.callback_data and b.callback_data.startswith(prefix)
                         for row in m.reply_markup for b in row)


def _has_any(words: tuple[str, ...]) -> Any:
    return lambda m: any(w in b for b in m.buttons() for w in words)


def last_rental() -> Rental:
    return Rental.select().order_by(Rental.id.desc()).get()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def eventually(check: Any, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def workspace(rig: Rig, host: str, telegram_id: int) -> Path:
    return Path(rig.engine(host).workspace_root) / f"u{telegram_id}"


async def approve_next(admin: EmuUser, ref: str) -> None:
    card = await admin.wait_message(predicate=lambda m: f"{ref}\n" in m.content + "\n"
                                    and "Approve" in " ".join(m.buttons()))
    await admin.press(card, "Approve")


async def rent(h: Harness, admin: EmuUser, uid: int, gpus: int = 1, **kw: Any) -> Rental:
    """A student (new per uid) requests, the admin approves; returns the rental row."""
    student = await h.user(uid, f"S{uid}", "en")
    submitted = await request_rental(student, gpus=gpus, **kw)
    found = re.search(r"R\d+", submitted.text)
    assert found, submitted.text
    ref = found.group(0)
    await approve_next(admin, ref)
    await h.settle()
    return Rental.get_by_id(int(ref[1:]))


async def release_via_chat(student: EmuUser, ref: str) -> None:
    await student.send("/my")
    card = await student.wait_message(predicate=lambda m: ref in m.content and "Release" in
                                      " ".join(m.buttons()))
    await student.press(card, "Release")
    confirm = await student.wait_message(contains="Release " + ref)
    await student.press(confirm, "Yes, release it")
    await student.wait_message(contains=f"{ref} released")
