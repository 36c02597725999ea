"""Buttons on reminders and idle notices: Extend (``ext:<id>`` -> ``exq:<id>:<unit>:<n>`` ->
``exy:…``) and Still using (``idk:<id>``). Release now reuses /my's ``rel:<id>``."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler

from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.ports import Keyboard
from bot.usecases import extend as uc
from bot.usecases import usage
from handlers.common import Context, current_user, services


def _parts(query: CallbackQuery) -> list[str]:
    assert query.data
    return query.data.split(":")


async def _show(query: CallbackQuery, text: str, buttons: Keyboard | None = None) -> None:
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(buttons))


async def on_extend(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    svc, user = services(context), current_user(update, context)
    try:
        text, buttons = uc.menu(svc, int(_parts(query)[1]), user, svc.clock.now())
    except UserError as error:
        await query.answer(error.render(user.language)[:190], show_alert=True)
        return
    await query.answer()
    await _show(query, text, buttons)


async def on_extend_pick(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    svc, user = services(context), current_user(update, context)
    _, rental_id, unit, quantity = _parts(query)
    try:
        text, buttons = uc.confirm(svc, int(rental_id), user, unit, int(quantity),
                                   svc.clock.now())
    except UserError as error:
        await query.answer(error.render(user.language)[:190], show_alert=True)
        return
    await query.answer()
    await _show(query, text, buttons)


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
        await query.answer(error.render(user.language)[:190], show_alert=True)
        return
    await query.answer()
    await _show(query, text)


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CallbackQueryHandler(on_extend, pattern=r"^ext:\d+$"))
    app.add_handler(CallbackQueryHandler(on_extend_pick, pattern=r"^exq:\d+:[a-z]+:\d+$"))
    app.add_handler(CallbackQueryHandler(on_extend_yes, pattern=r"^exy:\d+:[a-z]+:\d+$"))
    app.add_handler(CallbackQueryHandler(on_still_using, pattern=r"^idk:\d+$"))
