"""The student's status message during provisioning, with a pull progress bar."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.i18n import esc, t
from bot.ports import DeliveryDelayedError
from bot.services import Services
from bot.usecases import container
from models import views
from models.tables import Rental

EDIT_EVERY_S = 3.0
BAR_WIDTH = 12


def bar(done: int, total: int) -> str:
    share = 0.0 if total <= 0 else min(1.0, done / total)
    filled = round(share * BAR_WIDTH)
    mb = 1024 * 1024
    return f"{'▓' * filled}{'░' * (BAR_WIDTH - filled)} {share:.0%} ({done // mb}/{total // mb} MB)"


class StatusMessage:
    """One message per rental that is edited as provisioning moves on."""

    def __init__(self, services: Services, rental: Rental) -> None:
        self.services, self.rental = services, rental
        self.chat_id = rental.user.telegram_id
        self.lang = rental.user.language
        self.message_id: int | None = None

    async def show(self, key: str, **values: Any) -> None:
        text = t(self.lang, key, ref=self.rental.ref, **values)
        notifier = self.services.notifier
        if self.message_id is None:
            try:  # progress that arrives late is noise: not kept for later
                self.message_id = await notifier.send(self.chat_id, text, secret=True)
            except DeliveryDelayedError:
                return
            if self.message_id is not None:
                views.remember_message(self.rental, "status", self.chat_id, self.message_id)
        else:
            await notifier.edit(self.chat_id, self.message_id, text)


async def pull_with_progress(services: Services, status: StatusMessage, host: str,
                             ref: str) -> str:
    """Pull ``ref`` onto ``host`` (a catalogue image only when absent, a student's own always),
    editing the status at most every few seconds; returns what to run
    (:func:`bot.usecases.container.image_for_run`)."""
    latest: list[tuple[int, int]] = []

    def on_progress(done: int, total: int) -> None:  # runs in the SDK's worker thread
        latest.append((done, total))

    pull = asyncio.ensure_future(container.image_for_run(services, host, ref, on_progress))
    shown: tuple[int, int] | None = None
    last_edit = 0.0
    while not pull.done():
        await asyncio.wait([pull], timeout=0.5)
        now = time.monotonic()
        if latest and latest[-1] != shown and now - last_edit >= EDIT_EVERY_S:
            shown = latest[-1]
            last_edit = now
            await status.show("prov_pulling", image=esc(ref), bar=bar(*shown))
    return await pull  # re-raises a pull failure
