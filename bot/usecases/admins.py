"""Where admin messages go (the admin group, or each admin privately) and in which language."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from bot.ports import Keyboard
from bot.services import Services
from models import queries


def targets(services: Services) -> list[tuple[int, str]]:
    """(chat id, language) of every place admin messages go."""
    tg = services.config.telegram
    if tg.admin_chat:
        return [(tg.admin_chat, services.config.language)]
    return [(tid, language_of(services, tid)) for tid in tg.admins]


def language_of(services: Services, chat_id: int) -> str:
    """A private chat speaks its user's language; a group, the configured default."""
    user = queries.user_by_telegram(chat_id)
    return str(user.language) if user else services.config.language


def chat_ids(services: Services) -> list[int]:
    return [chat for chat, _ in targets(services)]


async def tell(services: Services, key: str, buttons: Keyboard | None = None,
               **values: Any) -> None:
    """Send catalogue message ``key`` to every admin target, each in its own language."""
    for chat_id, lang in targets(services):
        await services.notifier.send(chat_id, t(lang, key, **values), buttons)
