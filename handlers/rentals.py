"""/my: the student's rentals, with Release (after a confirmation)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.ports import Button
from bot.usecases import release as uc
from bot.usecases import waitlist
from handlers import rental_views as views
from handlers.common import Context, alert, current_user, services


async def my(update: Update, context: Context) -> None:
    user = current_user(update, context)
    rentals = uc.my_rentals(user)
    if update.effective_message is None:
        return
    if not rentals:
        await update.effective_message.reply_text(t(user.language, "my_none"))
        return
    svc = services(context)
    for rental in rentals:
        text, buttons = views.rental_card(svc, user.language, rental)
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML,
                                                  reply_markup=markup(buttons))


async def on_release(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data
    user = current_user(update, context)
    rental_id = int(query.data.split(":")[1])
    try:
        rental = uc.owned(rental_id, user)
    except UserError as error:
        await alert(query, error.render(user.language))
        return
    await query.answer()
    yes = Button(t(user.language, "btn_release_yes"), f"relok:{rental.id}")
    await query.edit_message_text(t(user.language, "my_release_confirm", ref=rental.ref),
                                  parse_mode=ParseMode.HTML, reply_markup=markup([[yes]]))


async def on_release_ok(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data
    svc, user = services(context), current_user(update, context)
    await query.answer()
    try:
        rental = await uc.release(svc, int(query.data.split(":")[1]), user, svc.clock.now())
    except UserError as error:
        await query.edit_message_text(error.render(user.language))
        return
    await query.edit_message_text(t(user.language, "my_released", ref=rental.ref),
                                  parse_mode=ParseMode.HTML)
    svc.spawn(waitlist.drain(svc), name="drain-after-release")


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CommandHandler("my", my))
    app.add_handler(CallbackQueryHandler(on_release, pattern=r"^rel:\d+$"))
    app.add_handler(CallbackQueryHandler(on_release_ok, pattern=r"^relok:\d+$"))
