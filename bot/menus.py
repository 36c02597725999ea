"""The command menus Telegram shows: students see theirs, admins (their private chats and the
admin group) see the console too. Set at start-up from the config, which is the authority:
a chat that had the admin menu last time and is no longer configured loses it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import LANGUAGES, t
from bot.services import Services
from bot.usecases import admins
from models import settings

logger = logging.getLogger(__name__)

STUDENT_COMMANDS = ("start", "request", "my", "keys", "bill", "pay", "lang", "help", "cancel")
CONSOLE_COMMANDS = ("pending", "rentals", "rental", "queue", "users", "user", "hosts", "images",
                    "report", "broadcast", "maintenance", "audit")
ADMIN_COMMANDS = (*STUDENT_COMMANDS, *CONSOLE_COMMANDS)
MENU_CHATS = "admin_menu_chats"  # the chats given the admin menu, to take it back later


def commands(lang: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(name, t(lang, f"cmd_{name}")) for name in names]


async def set_default_commands(bot: Bot, default_language: str) -> None:
    """English for everyone by default, Chinese for zh clients; config's default first."""
    await bot.set_my_commands(commands(default_language, STUDENT_COMMANDS))
    for lang in LANGUAGES:
        code = "zh" if lang == "zh" else "en"
        await bot.set_my_commands(commands(lang, STUDENT_COMMANDS), language_code=code)


async def set_admin_commands(bot: Bot, chat_id: int, lang: str) -> None:
    await bot.set_my_commands(commands(lang, ADMIN_COMMANDS),
                              scope=BotCommandScopeChat(chat_id=chat_id))


def admin_chats(services: Services) -> list[int]:
    """Each configured admin's private chat and, when configured, the admin group."""
    tg = services.config.telegram
    return [*tg.admins, *([tg.admin_chat] if tg.admin_chat else [])]


async def set_all_commands(bot: Bot, services: Services) -> None:
    """Every scope at start-up: students' defaults, each admin chat's console, and no console
    for a chat that had it before and is no longer an admin's."""
    await set_default_commands(bot, services.config.language)
    now_chats = admin_chats(services)
    for chat_id in now_chats:
        await _quietly(set_admin_commands(bot, chat_id, admins.language_of(services, chat_id)),
                       chat_id)
    before = settings.get(MENU_CHATS) or ""
    for gone in {int(c) for c in before.split(",") if c} - set(now_chats):
        await _quietly(bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=gone)), gone)
    settings.put(MENU_CHATS, ",".join(str(c) for c in now_chats), services.clock.now(), None)


async def _quietly(call: Awaitable[object], chat_id: int) -> None:
    """A chat that never opened the bot refuses a menu: its turn comes with /start."""
    try:
        await call
    except TelegramError as exc:
        logger.warning("command menu for chat %s not set: %s", chat_id, exc)
