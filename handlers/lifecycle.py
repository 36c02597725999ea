"""Buttons on reminders and idle notices: Extend (``ext:<id>`` -> ``exq:<id>:<unit>:<n>`` ->
``exy:…``) and Still using (``idk:<id>``). Release now reuses /my's ``rel:<id>``."""

from __future__ import annotations

from collections.abc import Callable

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler

from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.ports import Keyboard
from bot.services import Services
from bot.usecases import extend as uc
from bot.usecases import usage
from handlers.common import Context, alert, current_user, services
from models.tables import User


def _parts(query: CallbackQuery) -> list[str]:
    assert query.data
    return query.data.split(":")


async def _show(query: CallbackQuery, text: str, buttons: Keyboard | None = None) -> None:
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(buttons))


async def _step(update: Update, context: Context,
                produce: Callable[[Services, User], tuple[str, Keyboard]]) -> None:
    """Show the next step of the extend dialogue, or pop up why it cannot go on."""
    query = update.callback_query
    assert query is not None
    svc, user = services(context), current_user(update, context)
    try:
        text, buttons = produce(svc, user)
    except UserError as error:
        await alert(query, error.render(user.language))
        return
    await query.answer()
    await _show(query, text, buttons)


async def on_extend(update: Update, context: Context) -> None:
    assert update.callback_query is not None
    rental_id = int(_parts(update.callback_query)[1])
    await _step(update, context,
                lambda svc, user: uc.menu(svc, rental_id, user, svc.clock.now()))


async def on_extend_pick(update: Update, context: Context) -> None:
    assert update.callback_query is not None
    _, rental_id, unit, quantity = _parts(update.callback_query)
    await _step(update, context, lambda svc, user: uc.confirm(
        svc, int(rental_id), user, unit, int(quantity), svc.clock.now()))


async def on_extend_yes(update: Update, context: Context) -> None:
    """Reviving can take minutes (a commit), so it runs beside the chat and reports back."""
    query = update.callback_query
    assert query is not None
    svc, user = services(context), current_user(update, context)
    _, rental_id, unit, quantity = _parts(query)
    await query.answer()
    await _show(query, t(user.language, "life_ext_working", ref=f"R{rental_id}"))
    svc.spawn(uc.apply_and_tell(svc, int(rental_id), user, unit, int(quantity)),
              name=f"extend-R{rental_id}")


async def on_still_using(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    svc, user = services(context), current_user(update, context)
    try:
        text = usage.still_using(int(_parts(query)[1]), user, svc.clock.now())
    except UserError as error:
        await alert(query, error.render(user.language))
        return
    await query.answer()
    await _show(query, text)


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CallbackQueryHandler(on_extend, pattern=r"^ext:\d+$"))
    app.add_handler(CallbackQueryHandler(on_extend_pick, pattern=r"^exq:\d+:[a-z]+:\d+$"))
    app.add_handler(CallbackQueryHandler(on_extend_yes, pattern=r"^exy:\d+:[a-z]+:\d+$"))
    app.add_handler(CallbackQueryHandler(on_still_using, pattern=r"^idk:\d+$"))
