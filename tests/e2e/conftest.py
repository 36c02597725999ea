"""Fixtures for end-to-end tests: the emulator, the rig and the bot, started per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.clock import FrozenClock
from tests.botemu import BotApiEmulator
from tests.e2e.harness import TOKEN, Harness, rig_config
from tests.rig.rig import Rig


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def harness(clean_rig: Rig, emu: BotApiEmulator, database: str) -> AsyncIterator[Harness]:
    os.environ["GPURENT_TEST_TOKEN"] = TOKEN
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    h = Harness(rig=clean_rig, emu=emu, config=rig_config(clean_rig, emu, database), clock=clock)
    await h.start()
    yield h
    await h.stop()
    emu.assert_no_errors()
