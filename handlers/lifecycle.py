"""Buttons on reminders and idle notices: Extend (menu -> pick -> confirm) and Still using.
Release now reuses /my's Release button. The guard has checked the presser owns the rental."""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler

from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.ports import Keyboard
from bot.usecases import extend as uc
from bot.usecases import usage
from handlers.common import Context, Press, alert, edit_or_alert, pressed


async def _show(query: CallbackQuery, text: str, buttons: Keyboard | None = None) -> None:
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(buttons))


@pressed(cb.EXTEND)
async def on_extend(update: Update, context: Context, press: Press) -> None:
    rental_id, svc = press.values[0], context.services
    await edit_or_alert(press, lambda: uc.menu(svc, rental_id, press.user, svc.clock.now()))


@pressed(cb.EXTEND_PICK)
async def on_extend_pick(update: Update, context: Context, press: Press) -> None:
    rental_id, unit, quantity = press.values
    svc = context.services
    await edit_or_alert(press, lambda: uc.confirm(svc, rental_id, press.user, unit, quantity,
                                                  svc.clock.now()))


@pressed(cb.EXTEND_CONFIRM)
async def on_extend_yes(update: Update, context: Context, press: Press) -> None:
    """Reviving can take minutes (a commit), so it runs beside the chat and reports back."""
    svc, user = context.services, press.user
    rental_id, unit, quantity, end = press.values
    await press.query.answer()
    await _show(press.query, t(user.language, "life_ext_working", ref=f"R{rental_id}"))
    svc.spawn(uc.apply_and_tell(svc, rental_id, user, unit, quantity, end),
              name=f"extend-R{rental_id}")


@pressed(cb.STILL_USING)
async def on_still_using(update: Update, context: Context, press: Press) -> None:
    user = press.user
    try:
        text = usage.still_using(press.values[0], user, context.services.clock.now())
    except UserError as error:
        await alert(press.query, error.render(user.language))
        return
    await press.query.answer()
    await _show(press.query, text)


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    for kind, handler in ((cb.EXTEND, on_extend), (cb.EXTEND_PICK, on_extend_pick),
                          (cb.EXTEND_CONFIRM, on_extend_yes), (cb.STILL_USING, on_still_using)):
        app.add_handler(CallbackQueryHandler(handler, pattern=kind.pattern))
