"""The image catalogue, kept by the admins in the chat (/images): seeded from the config once,
then images added by reference (pulled onto every answering host first, with a progress bar
in the admin's chat), hidden or removed.

What /request and Change image offer is ``services.config.images``: after every change it is
set from the database, so the request dialogue, the change menu and the checks all read the
one catalogue without knowing where it lives."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import replace
from datetime import datetime

from bot import auth
from bot import callbacks as cb
from bot.config import Config, ImageConfig
from bot.errors import UserError
from bot.i18n import t
from bot.ports import Keyboard, RuntimeFaultError
from bot.services import Services
from bot.textinput import echo
from bot.usecases import console_actions
from bot.usecases.progress import bar
from bot.usecases.request import check_custom_image
from models import catalog, hosts
from models.tables import User

logger = logging.getLogger(__name__)

EDIT_EVERY_S = 2.0


def apply(services: Services) -> None:
    """Offer what the database's catalogue offers (the config's list until it was seeded)."""
    offered = [ImageConfig(i.key, i.name, i.ref) for i in catalog.offered()]
    if offered:
        services.config = replace(services.config, images=tuple(offered))


def seed(services: Services, now: datetime) -> None:
    """At start-up: the config's images never seen before join the catalogue."""
    added = catalog.seed(((i.key, i.name, i.ref) for i in services.config.images), now)
    if added:
        logger.info("image catalogue: %d image(s) from the config", added)
    apply(services)


def listing(config: Config, admin: User | None) -> tuple[str, Keyboard]:
    admin = auth.require_admin(config, admin)
    lang = admin.language
    lines, rows = [t(lang, "img_head")], []
    for image in catalog.kept():
        mark = t(lang, "img_hidden") if image.hidden else ""
        lines.append(f"<code>{image.key}</code> {echo(image.name, 60)} · "
                     f"<code>{echo(image.ref, 120)}</code> {mark}")
        toggle = "img_btn_show" if image.hidden else "img_btn_hide"
        rows.append([cb.IMAGE_TOGGLE.button(t(lang, toggle, image=image.key), image.id),
                     cb.IMAGE_REMOVE.button(t(lang, "img_btn_remove", image=image.key),
                                            image.id)])
    lines.append(t(lang, "img_add_hint"))
    return "\n".join(lines), rows


def toggle(services: Services, admin: User | None, image_id: int, now: datetime) -> None:
    admin = auth.require_admin(services.config, admin)
    image = _found(image_id)
    if not image.hidden:
        _not_last(image_id)
    catalog.set_hidden(image_id, not image.hidden)
    console_actions.audit(None, "image_shown" if image.hidden else "image_hidden", now, admin,
                          image.ref)
    apply(services)


def remove(services: Services, admin: User | None, image_id: int, now: datetime) -> None:
    admin = auth.require_admin(services.config, admin)
    image = _found(image_id)
    _not_last(image_id)
    catalog.remove(image_id)
    console_actions.audit(None, "image_removed", now, admin, image.ref)
    apply(services)


def _found(image_id: int) -> catalog.CatalogImage:
    image = catalog.find(image_id)
    if image is None:
        raise UserError("img_gone")
    return image


def _not_last(image_id: int) -> None:
    """Students always have one image to pick (and clean-ups one to run)."""
    if [i.id for i in catalog.offered()] == [image_id]:
        raise UserError("img_last")


def parse_add(config: Config, words: list[str]) -> tuple[str, str]:
    """``/images add REF [NAME]``: the checked reference and a name (default: the reference)."""
    if len(words) < 2 or words[0].lower() != "add":
        raise UserError("img_usage")
    ref = check_custom_image(config, words[1])
    return ref, " ".join(words[2:]).strip()[:64] or ref.rsplit("/", 1)[-1]


def new_key(ref: str) -> str:
    """A short unused key from the reference (it travels in buttons: [a-z0-9_-]{1,16})."""
    base = re.sub(r"[^a-z0-9_-]+", "-", ref.rsplit("/", 1)[-1].lower()).strip("-")[:12] or "img"
    key, n = base, 1
    while catalog.key_taken(key):
        n += 1
        key = f"{base[:12]}-{n}"
    return key


async def add(services: Services, admin: User, ref: str, name: str, chat_id: int) -> str:
    """Pull ``ref`` onto every answering host, showing progress in ``chat_id``; then add it.
    Returns what to tell the admin."""
    lang = admin.language
    for host in hosts.enabled():
        if not host.reachable:
            continue
        try:
            await _pull(services, host.name, ref, chat_id, lang)
        except RuntimeFaultError as fault:
            return t(lang, "img_pull_failed", host=echo(host.name), reason=echo(fault.message,
                                                                                    300))
    image = catalog.add(new_key(ref), name, ref, "added", 0, admin, services.clock.now())
    console_actions.audit(None, "image_added", services.clock.now(), admin, ref)
    apply(services)
    return t(lang, "img_added", image=image.key, name=echo(name, 64))


async def _pull(services: Services, host: str, ref: str, chat_id: int, lang: str) -> None:
    latest: list[tuple[int, int]] = []
    message_id = await services.notifier.send(chat_id, t(lang, "img_pulling", host=echo(host),
                                                         bar=bar(0, 0)))

    def on_progress(done: int, total: int) -> None:  # in the SDK's worker thread
        latest.append((done, total))

    pull = asyncio.ensure_future(services.runtime.ensure_image(host, ref, on_progress))
    shown, last = None, 0.0
    while not pull.done():
        await asyncio.wait([pull], timeout=0.5)
        if latest and latest[-1] != shown and time.monotonic() - last >= EDIT_EVERY_S:
            shown, last = latest[-1], time.monotonic()
            if message_id is not None:
                await services.notifier.edit(chat_id, message_id, t(
                    lang, "img_pulling", host=echo(host), bar=bar(*shown)))
    pull.result()
    if message_id is not None:
        await services.notifier.edit(chat_id, message_id, t(lang, "img_pulled",
                                                            host=echo(host)))


async def add_and_tell(services: Services, admin: User, ref: str, name: str,
                       chat_id: int) -> None:
    await services.notifier.send(chat_id, await add(services, admin, ref, name, chat_id))
