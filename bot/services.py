"""The collaborators every handler and job reaches (``context.services`` in handlers): the
configuration, the clock, the container runtime and the notifier, typed with the interfaces of
:mod:`bot.ports` so mypy checks every call. The runtime and the notifier are wired in
:mod:`bot.app` (the notifier only once the Bot exists); until then they refuse to work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import auth
from bot.clock import Clock
from bot.config import Config
from bot.ports import ContainerRuntime, Notifier

logger = logging.getLogger(__name__)

SERVICES_KEY = "gpurent.services"
RECONCILE_EVERY = timedelta(minutes=5)  # Docker checked against the database
PER_HOST = 4  # containers provisioned on one host at once: pulls and starts share its disk


@dataclass
class Services:
    config: Config
    clock: Clock
    runtime: ContainerRuntime = field(default_factory=lambda: _unwired("runtime"))
    notifier: Notifier = field(default_factory=lambda: _unwired("notifier"))
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    waitlist_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tick_seconds: float = 60.0  # 0 = no automatic tick (tests drive it by hand)
    per_host: int = PER_HOST
    watchers: set[asyncio.Task[Any]] = field(default_factory=set)  # live as long as the bot
    oom_killed: set[str] = field(default_factory=set)  # containers whose next death is an OOM
    lease_holder: str | None = None  # this process's hold on the database (gpurent run)
    reconcile_every: timedelta = RECONCILE_EVERY
    _reconciled: datetime | None = None
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def is_admin(self, telegram_id: int) -> bool:
        return auth.is_admin(self.config, telegram_id)

    def reconcile_due(self, now: datetime) -> bool:
        """True every ``reconcile_every`` (and the first time)."""
        if self._reconciled is not None and now - self._reconciled < self.reconcile_every:
            return False
        self._reconciled = now
        return True

    def host_slot(self, host: str) -> asyncio.Semaphore:
        """Bounds the provisioning work running on ``host`` at once."""
        return self._slots.setdefault(host, asyncio.Semaphore(self.per_host))

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

    def watch(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Work that lasts as long as the bot (event streams); not waited for by :meth:`idle`,
        cancelled by :meth:`stop_watching`."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.watchers.add(task)
        task.add_done_callback(self._watch_ended)

    def _watch_ended(self, task: asyncio.Task[Any]) -> None:
        self.watchers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("watcher %s stopped", task.get_name(), exc_info=task.exception())

    async def stop_watching(self) -> None:
        for task in list(self.watchers):
            task.cancel()
        await asyncio.gather(*self.watchers, return_exceptions=True)

    def running(self, name: str) -> bool:
        """Whether background work of that name runs in this process now."""
        return any(t.get_name() == name and not t.done() for t in self.tasks)

    async def idle(self) -> None:
        """Wait until no background work is left (tests and shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


class _Unwired:
    """Stands in for a collaborator not wired yet: any use is a bug, said plainly."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"Services.{self._what} used before it was wired ({name})")


def _unwired(what: str) -> Any:
    return _Unwired(what)


def services_of(bot_data: dict[str, Any]) -> Services:
    found = bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
