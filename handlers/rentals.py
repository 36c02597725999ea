"""/my: the student's rentals, with Release (after a confirmation). The guard has checked the
presser owns the rental before either button's handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.usecases import release as uc
from bot.usecases import waitlist
from handlers import rental_views as views
from handlers.common import Context, Press, alert, current_user, pressed


async def my(update: Update, context: Context) -> None:
    user = current_user(update, context)
    rentals = uc.my_rentals(user)
    if update.effective_message is None:
        return
    if not rentals:
        await update.effective_message.reply_text(t(user.language, "my_none"))
        return
    svc = context.services
    for rental in rentals:
        text, buttons = views.rental_card(svc, user.language, rental)
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML,
                                                  reply_markup=markup(buttons))


@pressed(cb.RELEASE)
async def on_release(update: Update, context: Context, press: Press) -> None:
    user = press.user
    try:
        rental = uc.owned(press.values[0], user)
    except UserError as error:
        await alert(press.query, error.render(user.language))
        return
    await press.query.answer()
    yes = cb.RELEASE_CONFIRM.button(t(user.language, "btn_release_yes"), rental.id)
    await press.query.edit_message_text(t(user.language, "my_release_confirm", ref=rental.ref),
                                        parse_mode=ParseMode.HTML, reply_markup=markup([[yes]]))


@pressed(cb.RELEASE_CONFIRM)
async def on_release_ok(update: Update, context: Context, press: Press) -> None:
    svc, user, query = context.services, press.user, press.query
    await query.answer()
    try:
        rental = await uc.release(svc, press.values[0], user, svc.clock.now())
    except UserError as error:
        await query.edit_message_text(error.render(user.language))
        return
    await query.edit_message_text(t(user.language, "my_released", ref=rental.ref),
                                  parse_mode=ParseMode.HTML)
    svc.spawn(waitlist.drain(svc), name="drain-after-release")


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CommandHandler("my", my))
    app.add_handler(CallbackQueryHandler(on_release, pattern=cb.RELEASE.pattern))
    app.add_handler(CallbackQueryHandler(on_release_ok, pattern=cb.RELEASE_CONFIRM.pattern))
