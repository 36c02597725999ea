"""The command menus Telegram shows, per language and for admins."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat

from bot.i18n import LANGUAGES, t

STUDENT_COMMANDS = ("start", "request", "my", "bill", "pay", "help", "cancel")
ADMIN_COMMANDS = (*STUDENT_COMMANDS, "pending", "hosts", "report")


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
