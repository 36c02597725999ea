"""Updates of different users are handled at once; one user's stay in the order they came.

Without this, PTB handles one update at a time, so one slow handler (a Docker host that takes
seconds to answer) stalls every student. ``concurrent_updates=True`` alone breaks dialogues:
the next step of a ``ConversationHandler`` arrives before the state of the one before is
stored. PTB's answer is a custom :class:`BaseUpdateProcessor`; this one keys a lock by user
(by chat for updates without one). PTB takes a slot of the concurrency bound before the
lock (``process_update`` is final), so the bound is generous: a user's backlog waiting on
its lock holds slots, and the per-user rate limit (group -1) drops a flood quickly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT = 512


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}  # updates holding or awaiting each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock is FIFO: the user's updates keep their order
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:  # nobody else waits: forget the user
                del self._queued[key], self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None
