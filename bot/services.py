"""The collaborators every handler and job reaches through ``context.bot_data``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Config

logger = logging.getLogger(__name__)

SERVICES_KEY = "gpurent.services"


@dataclass
class Services:
    config: Config
    clock: Clock
    runtime: Any = None      # bot.ports.ContainerRuntime, wired in bot.app
    notifier: Any = None     # bot.ports.Notifier, wired in bot.app once the Bot exists
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    waitlist_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tick_seconds: float = 60.0  # 0 = no automatic tick (tests drive it by hand)

    def is_admin(self, telegram_id: int) -> bool:
        return telegram_id in self.config.telegram.admins

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run slow work (provisioning) beside the chat; failures are logged, not lost."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(),
                         exc_info=task.exception())

    async def idle(self) -> None:
        """Wait until no background work is left (tests and shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


def services_of(bot_data: dict[str, Any]) -> Services:
    found = bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
