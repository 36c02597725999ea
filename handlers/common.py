"""Small helpers every handler shares: who is asking, in which language, with which services,
and the guard that checks a button press before its handler runs."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackContext, ExtBot

from bot import auth
from bot.callbacks import Kind
from bot.errors import UserError
from bot.notify import markup
from bot.ports import Keyboard
from bot.services import Services, services_of
from bot.usecases.users import Person, register
from models.tables import User

R = TypeVar("R")


class CustomContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any],
                                    dict[Any, Any]]):
    """The context every handler gets (see PTB's ``contexttypesbot.py``): typed services."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any],
                 chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        return services_of(self.bot_data)


Context = CustomContext


def person_of(update: Update) -> Person:
    tg = update.effective_user
    if tg is None:
        raise ValueError("update without a user")
    return Person(telegram_id=tg.id, first_name=tg.first_name or "", last_name=tg.last_name or "",
                  username=tg.username or "", language_code=tg.language_code)


def current_user(update: Update, context: Context) -> User:
    svc = context.services
    return register(person_of(update), svc.config.telegram.admins, svc.config.language,
                    svc.clock.now())


ALERT_LIMIT = 200  # Telegram's limit for the text of a callback query answer


async def alert(query: CallbackQuery, text: str) -> None:
    """Answer a button press with a pop-up, cut to what Telegram accepts."""
    if len(text) > ALERT_LIMIT:
        text = text[:ALERT_LIMIT - 1] + "…"
    await query.answer(text, show_alert=True)


def _on_media(query: CallbackQuery) -> bool:
    """Our buttons are only ever sent on text messages, and the handlers edit that text: data
    that comes with a photo or a file was put there by the client (Telegram would refuse the
    edit: "there is no text in the message to edit")."""
    return isinstance(query.message, Message) and query.message.text is None


async def swap_buttons(query: CallbackQuery, keyboard: InlineKeyboardMarkup | None) -> None:
    """Give the pressed message other buttons. The same ones again (a second tap on Reject,
    Back on a card that shows its buttons) Telegram refuses as "message is not modified"."""
    shown = query.message.reply_markup if isinstance(query.message, Message) else None
    if shown == keyboard or (shown is None and keyboard is None):
        return
    await query.edit_message_reply_markup(keyboard)


@dataclass(frozen=True)
class Press:
    """A button press the guard let through: the query, the presser and the data's values."""

    query: CallbackQuery
    user: User
    values: tuple[Any, ...]


async def edit_or_alert(press: Press, view: Callable[[], tuple[str, Keyboard]]) -> None:
    """Replace the pressed message with ``view()``, or pop up why not (its UserError)."""
    try:
        text, buttons = view()
    except UserError as error:
        await alert(press.query, error.render(press.user.language))
        return
    await press.query.answer()
    await press.query.edit_message_text(text, parse_mode=ParseMode.HTML,
                                        reply_markup=markup(buttons))


PressHandler = Callable[[Update, Context, Press], Coroutine[Any, Any, R]]
Handler = Callable[[Update, Context], Coroutine[Any, Any, R | None]]


def pressed(kind: Kind) -> Callable[[PressHandler[R]], Handler[R]]:
    """Parse the press as ``kind`` and apply its ``who`` rule to the presser (the user, never
    the chat: cards are pressed in groups too); refusals get a pop-up in the presser's language
    and the handler does not run (None: a conversation stays where it was)."""

    def wrap(handler: PressHandler[R]) -> Handler[R]:
        @wraps(handler)
        async def guarded(update: Update, context: Context) -> R | None:
            press = await _admit(kind, update, context)
            return None if press is None else await handler(update, context, press)

        return guarded

    return wrap


async def _admit(kind: Kind, update: Update, context: Context) -> Press | None:
    query = update.callback_query
    if query is None:
        return None
    user = current_user(update, context)
    values = kind.parse(query.data)
    try:
        if values is None or _on_media(query):
            raise UserError("button_bad")
        owner_of = values[0] if kind.who == "owner" else None
        auth.check_press(context.services.config, kind.who, user, owner_of)
    except UserError as error:
        await alert(query, error.render(user.language))
        return None
    return Press(query, user, values)
