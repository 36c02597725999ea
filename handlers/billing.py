"""/bill, /pay, /report and the payment buttons on the admins' order cards.

``pay:full:<id>`` records the whole amount still due; ``pay:part:<id>`` asks the admin, in their
private chat, to type the amount. The awaited order sits in ``context.user_data`` and a
MessageHandler in group 2 (after the request dialogue in group 0 and typed reject reasons in
group 1) reads the reply: it acts only while an amount is awaited (10 minutes at most) and never
stops other groups, so it shadows no one. /cancel, in the same group, drops the wait.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.errors import UserError
from bot.i18n import t
from bot.usecases import billing as uc
from handlers.common import Context, alert, current_user, services

logger = logging.getLogger(__name__)

PAY_DATA = re.compile(r"^pay:(full|part):([0-9]{1,12})$")
AMOUNT_KEY = "bill_amount_for"  # user_data: (order id, when the admin was asked)
AMOUNT_TTL = timedelta(minutes=10)
AMOUNT_GROUP = 2


def parse_pay_data(data: str | None) -> tuple[str, int] | None:
    """ "pay:full:12" -> ("full", 12); anything else -> None."""
    match = PAY_DATA.fullmatch(data or "")
    return None if match is None else (match[1], int(match[2]))


async def bill(update: Update, context: Context) -> None:
    user = current_user(update, context)
    if update.effective_message is not None:
        text = uc.bill_text(user, user.language, services(context).config.tz)
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


async def pay(update: Update, context: Context) -> None:
    """The student's payment QR codes again, one per unpaid order."""
    user, message = current_user(update, context), update.effective_message
    if message is None:
        return
    requests = uc.pay_requests(services(context), user)
    if not requests:
        await message.reply_text(t(user.language, "bill_nothing_to_pay"))
    for png, caption in requests:
        await message.reply_photo(png, caption=caption, parse_mode=ParseMode.HTML)


async def report(update: Update, context: Context) -> None:
    """/report [YYYY-MM] (admins): a summary and the CSV; default the current month."""
    svc, user, message = services(context), current_user(update, context), update.effective_message
    if message is None:
        return
    try:
        result = uc.report(svc, user.telegram_id, " ".join(context.args or []), svc.clock.now())
    except UserError as error:
        await message.reply_text(error.render(user.language), parse_mode=ParseMode.HTML)
        return
    await message.reply_text(result.text, parse_mode=ParseMode.HTML)
    await message.reply_document(result.csv, filename=result.filename)


async def on_pay(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    admin, svc = current_user(update, context), services(context)
    parsed = parse_pay_data(query.data)
    try:
        if parsed is None:
            raise UserError("bill_bad_button")
        mode, order_id = parsed
        if mode == "full":
            done = await uc.mark_paid(svc, admin.telegram_id, order_id, svc.clock.now())
        else:
            prompt = uc.ask_amount(svc, admin.telegram_id, order_id)
    except UserError as error:
        await alert(query, error.render(admin.language))
        return
    await query.answer()
    if mode == "full":
        await _close_card(update)
        await _tell(update, context, done.text)
        return
    _await_amount(context, order_id, svc.clock.now())
    await context.bot.send_message(admin.telegram_id, prompt, parse_mode=ParseMode.HTML)


async def _close_card(update: Update) -> None:
    """Take the buttons off a fully paid order's card."""
    query = update.callback_query
    try:
        if query is not None:
            await query.edit_message_reply_markup(None)
    except TelegramError as exc:
        logger.warning("could not close an order card: %s", exc)


async def _tell(update: Update, context: Context, text: str) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)


def _await_amount(context: Context, order_id: int, now: datetime) -> None:
    if context.user_data is not None:
        context.user_data[AMOUNT_KEY] = (order_id, now)


def _awaited(context: Context) -> tuple[int, datetime] | None:
    data = context.user_data
    return None if data is None else data.get(AMOUNT_KEY)


def _drop(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(AMOUNT_KEY, None)


async def on_amount(update: Update, context: Context) -> None:
    """The amount an admin typed after pressing Record payment; ignored otherwise."""
    awaited, message = _awaited(context), update.effective_message
    if awaited is None or message is None or not message.text:
        return
    svc, admin = services(context), current_user(update, context)
    order_id, since = awaited
    now = svc.clock.now()
    if now - since > AMOUNT_TTL:
        _drop(context)
        await message.reply_text(t(admin.language, "bill_amount_expired"))
        return
    try:
        done = await uc.record_payment(svc, admin.telegram_id, order_id, message.text, now)
    except UserError as error:
        if error.key != "bill_bad_amount":  # a typo may be retried; anything else ends it
            _drop(context)
        await message.reply_text(error.render(admin.language), parse_mode=ParseMode.HTML)
        return
    _drop(context)
    await message.reply_text(done.text, parse_mode=ParseMode.HTML)


async def on_cancel(update: Update, context: Context) -> None:
    if _awaited(context) is None or update.effective_message is None:
        return
    _drop(context)
    user = current_user(update, context)
    await update.effective_message.reply_text(t(user.language, "bill_amount_cancelled"))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("bill", bill))
    app.add_handler(CommandHandler("pay", pay))
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CallbackQueryHandler(on_pay, pattern=r"^pay:"))
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_amount),
                    group=AMOUNT_GROUP)
    app.add_handler(CommandHandler("cancel", on_cancel, filters=private), group=AMOUNT_GROUP)
