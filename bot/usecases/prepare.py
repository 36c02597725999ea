"""Preparing an image (``/images prepare KEY``): the "basic configuration" an admin used to do
by hand for every new image, as a derived image built on every answering host. It makes sure
``sshd`` (OpenSSH server), ``chpasswd`` and ``jupyter-lab`` are there, installing them with
whatever package manager the base has. The build log streams into the admin's chat in short
chunks; the end says the image's size, and the prepared image joins the catalogue. Packages
come from the mirrors of the config's ``[prepare]`` (the base's own sources when unset)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot import auth
from bot.config import PrepareConfig
from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.textinput import echo
from bot.usecases import console_actions, images
from docker_ops.rentable import rentable_dockerfile
from models import catalog, hosts
from models.tables import CatalogImage, User

logger = logging.getLogger(__name__)

CHUNK_EVERY_S = 2.0  # at most one log message this often (Telegram: ~1 a second per chat)
CHUNK_LINES, CHUNK_CHARS = 15, 1500
REPOSITORY = "gpurent/prepared"

def dockerfile(base: str, mirrors: PrepareConfig | None = None) -> str:
    """The derived image: the lab's one rentable template (``docker_ops/rentable.Dockerfile``)
    on ``base``, installing from the configured package mirrors. It removes host keys baked
    into the base, so no two rentals share them (each container makes its own at start)."""
    mirrors = mirrors or PrepareConfig()
    return rentable_dockerfile(base, mirrors.apt_mirror, mirrors.pip_index)


def target(services: Services, admin: User | None, words: list[str]) -> CatalogImage:
    """``/images prepare KEY``: the catalogue image to prepare."""
    auth.require_admin(services.config, admin)
    if len(words) != 2 or words[0].lower() != "prepare":
        raise UserError("img_usage")
    found = next((i for i in catalog.kept() if i.key == words[1].lower()), None)
    if found is None:
        raise UserError("img_gone")
    return found


async def prepare(services: Services, admin: User, base: CatalogImage, chat_id: int,
                  now: datetime) -> str:
    """Build on every answering host; returns the closing line for the admin."""
    lang = admin.language
    tag = f"{REPOSITORY}-{base.key}:{int(now.timestamp())}"
    size = 0
    for host in [h.name for h in hosts.enabled() if h.reachable]:
        try:
            text = dockerfile(base.ref, services.config.prepare)
            size = await _build(services, host, text, tag, chat_id, lang)
        except RuntimeFaultError as fault:
            console_actions.audit(None, "image_prepare_failed", now, admin, fault.message)
            return t(lang, "img_prepare_failed", host=esc(host), reason=echo(fault.message,
                                                                                  500))
    key = images.new_key(f"{base.key}-ok")
    catalog.add(key, f"{base.name} (prepared)"[:128], tag, "prepared", size, admin, now)
    console_actions.audit(None, "image_prepared", now, admin, f"{base.ref} -> {tag}")
    images.apply(services)
    return t(lang, "img_prepared", image=key, ref=esc(tag), size=f"{size / 1e6:.0f} MB")


async def _build(services: Services, host: str, text: str, tag: str, chat_id: int,
                 lang: str) -> int:
    lines: list[str] = []

    def on_log(line: str) -> None:  # in the SDK's worker thread
        lines.append(line)

    build = asyncio.ensure_future(services.runtime.build_image(host, text, tag, on_log))
    await services.notifier.send(chat_id, t(lang, "img_preparing", host=esc(host)))
    sent = 0
    while not build.done():
        await asyncio.wait([build], timeout=CHUNK_EVERY_S)
        sent = await _chunk(services, chat_id, lines, sent)
    await _chunk(services, chat_id, lines, sent)
    return build.result()


async def _chunk(services: Services, chat_id: int, lines: list[str], sent: int) -> int:
    """Send the lines not sent yet, the newest ``CHUNK_LINES`` of them, cut to a short
    message; returns how many lines are accounted for."""
    fresh = lines[sent:]
    if not fresh:
        return sent
    text = "\n".join(line[:200] for line in fresh[-CHUNK_LINES:])[-CHUNK_CHARS:]
    await services.notifier.send(chat_id, f"<pre>{esc(text)}</pre>")
    return sent + len(fresh)


async def prepare_and_tell(services: Services, admin: User, base: CatalogImage,
                           chat_id: int) -> None:
    answer = await prepare(services, admin, base, chat_id, services.clock.now())
    await services.notifier.send(chat_id, answer)
