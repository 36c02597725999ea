"""Small helpers every handler shares: who is asking, in which language, with which services."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from bot.services import Services, services_of
from bot.usecases.users import Person, register
from models.tables import User

Context = ContextTypes.DEFAULT_TYPE


def services(context: Context) -> Services:
    return services_of(context.bot_data)


def person_of(update: Update) -> Person:
    tg = update.effective_user
    if tg is None:
        raise ValueError("update without a user")
    return Person(telegram_id=tg.id, first_name=tg.first_name or "", last_name=tg.last_name or "",
                  username=tg.username or "", language_code=tg.language_code)


def current_user(update: Update, context: Context) -> User:
    svc = services(context)
    return register(person_of(update), svc.config.telegram.admins, svc.config.language,
                    svc.clock.now())


ALERT_LIMIT = 200  # Telegram's limit for the text of a callback query answer


async def alert(query: CallbackQuery, text: str) -> None:
    """Answer a button press with a pop-up, cut to what Telegram accepts."""
    if len(text) > ALERT_LIMIT:
        text = text[:ALERT_LIMIT - 1] + "…"
    await query.answer(text, show_alert=True)
