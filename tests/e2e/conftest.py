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
async def harness(request: pytest.FixtureRequest, clean_rig: Rig, emu: BotApiEmulator,
                  database: str) -> AsyncIterator[Harness]:
    """The bot on the rig; ``@pytest.mark.config(rental={...})`` overrides config tables."""
    os.environ["GPURENT_TEST_TOKEN"] = TOKEN
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    marker = request.node.get_closest_marker("config")
    overrides = dict(marker.kwargs) if marker else {}
    config = rig_config(clean_rig, emu, database, **overrides)
    h = Harness(rig=clean_rig, emu=emu, config=config, clock=clock)
    await h.start()
    yield h
    await h.stop()
    emu.assert_no_errors()
