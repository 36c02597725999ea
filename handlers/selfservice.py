"""The student's own buttons under a rental in /my: Restart, New password, Withdraw. Each asks
to confirm first; the confirmation carries what it saw, so a second tap does nothing twice. The
guard has checked the presser owns the rental; the slow work runs beside the chat."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.usecases import selfservice as uc
from handlers.common import Context, Press, alert, current_user, pressed


async def _confirm(context: Context, press: Press, ask: str, yes: cb.Kind, yes_text: str,
                   versioned: bool = True) -> None:
    """Replace the card with the question and one Yes button (or pop up why not)."""
    svc, user, rental_id = context.services, press.user, press.values[0]
    try:
        values = [rental_id, uc.version(svc, rental_id, user)] if versioned else [rental_id]
    except UserError as error:
        await alert(press.query, error.render(user.language))
        return
    await press.query.answer()
    button = yes.button(t(user.language, yes_text), *values)
    await press.query.edit_message_text(t(user.language, ask, ref=f"R{rental_id}"),
                                        parse_mode=ParseMode.HTML,
                                        reply_markup=markup([[button]]))


async def _working(context: Context, press: Press, key: str) -> bool:
    """Say the work has begun, or pop up why it will not (a second tap, a stale button)."""
    rental_id, seen = press.values
    svc = context.services
    try:
        uc.claim_press(svc, rental_id, press.user, seen, key, svc.clock.now())
    except UserError as error:
        await alert(press.query, error.render(press.user.language))
        return False
    await press.query.answer()
    await press.query.edit_message_text(t(press.user.language, key, ref=f"R{rental_id}"))
    return True


@pressed(cb.RESTART)
async def on_restart(update: Update, context: Context, press: Press) -> None:
    await _confirm(context, press, "ss_restart_confirm", cb.RESTART_CONFIRM,
                   "btn_ss_restart_yes")


@pressed(cb.RESTART_CONFIRM)
async def on_restart_yes(update: Update, context: Context, press: Press) -> None:
    rental_id, seen = press.values
    if not await _working(context, press, "ss_restart_working"):
        return
    svc = context.services
    svc.spawn(uc.restart_and_tell(svc, rental_id, press.user, seen), name=f"restart-R{rental_id}")


@pressed(cb.NEW_PASSWORD)
async def on_password(update: Update, context: Context, press: Press) -> None:
    await _confirm(context, press, "ss_password_confirm", cb.NEW_PASSWORD_CONFIRM,
                   "btn_ss_password_yes")


@pressed(cb.NEW_PASSWORD_CONFIRM)
async def on_password_yes(update: Update, context: Context, press: Press) -> None:
    rental_id, seen = press.values
    if not await _working(context, press, "ss_password_working"):
        return
    svc = context.services
    svc.spawn(uc.new_password_and_tell(svc, rental_id, press.user, seen),
              name=f"password-R{rental_id}")


@pressed(cb.WITHDRAW)
async def on_withdraw(update: Update, context: Context, press: Press) -> None:
    await press.query.answer()
    user, rental_id = press.user, press.values[0]
    yes = cb.WITHDRAW_CONFIRM.button(t(user.language, "btn_ss_withdraw_yes"), rental_id)
    await press.query.edit_message_text(t(user.language, "ss_withdraw_confirm",
                                          ref=f"R{rental_id}"), reply_markup=markup([[yes]]))


@pressed(cb.WITHDRAW_CONFIRM)
async def on_withdraw_yes(update: Update, context: Context, press: Press) -> None:
    svc, user, query = context.services, press.user, press.query
    await query.answer()
    try:
        rental = await uc.withdraw(svc, press.values[0], user, svc.clock.now())
    except UserError as error:
        await query.edit_message_text(error.render(user.language), parse_mode=ParseMode.HTML)
        return
    await query.edit_message_text(t(user.language, "ss_withdrawn", ref=rental.ref))


async def lang_command(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    user = current_user(update, context)
    try:
        text = uc.switch_language(user, " ".join(context.args or []))
    except UserError as error:
        text = error.render(user.language)
    await message.reply_text(text)


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CommandHandler("lang", lang_command))
    for kind, handler in ((cb.RESTART, on_restart), (cb.RESTART_CONFIRM, on_restart_yes),
                          (cb.NEW_PASSWORD, on_password),
                          (cb.NEW_PASSWORD_CONFIRM, on_password_yes),
                          (cb.WITHDRAW, on_withdraw), (cb.WITHDRAW_CONFIRM, on_withdraw_yes)):
        app.add_handler(CallbackQueryHandler(handler, pattern=kind.pattern))
