"""/bill, /pay, /report and the payment buttons on the admins' order cards.

Mark paid records the whole amount still due; Record payment asks the admin, in their private
chat, to type the amount. That wait is a ConversationHandler keyed by the admin alone
(``per_chat=False``: the card may sit in a group) in its own handler group, after the request
dialogue (group 0) and typed reject reasons (group 1); it ends on a recorded payment, on
/cancel or after ``AMOUNT_TTL``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
)

from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.usecases import payments as uc
from handlers.common import Context, Press, alert, current_user, pressed, swap_buttons
from handlers.typed import END, TYPING, TypedInput

logger = logging.getLogger(__name__)

AMOUNT_TTL = timedelta(minutes=10)
AMOUNT_GROUP = 2
AMOUNT = TypedInput("amount_for", "bill_amount_cancelled", "bill_amount_expired", AMOUNT_TTL)


async def bill(update: Update, context: Context) -> None:
    user = current_user(update, context)
    if update.effective_message is not None:
        text = uc.bill_text(user, user.language, context.services.config.tz)
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


async def pay(update: Update, context: Context) -> None:
    """The student's payment QR codes again, one per unpaid order."""
    user, message = current_user(update, context), update.effective_message
    if message is None:
        return
    requests = uc.pay_requests(context.services, user)
    if not requests:
        await message.reply_text(t(user.language, "bill_nothing_to_pay"))
    for png, caption in requests:
        await message.reply_photo(png, caption=caption, parse_mode=ParseMode.HTML)


async def report(update: Update, context: Context) -> None:
    """/report [YYYY-MM] (admins): a summary and the CSV; default the current month."""
    svc, user, message = context.services, current_user(update, context), update.effective_message
    if message is None:
        return
    try:
        result = uc.report(svc, user.telegram_id, " ".join(context.args or []), svc.clock.now())
    except UserError as error:
        await message.reply_text(error.render(user.language), parse_mode=ParseMode.HTML)
        return
    await message.reply_text(result.text, parse_mode=ParseMode.HTML)
    await message.reply_document(result.csv, filename=result.filename)


@pressed(cb.PAY)
async def on_pay(update: Update, context: Context, press: Press) -> int:
    """Mark paid records at once; Record payment waits for the admin to type an amount."""
    mode, order_id = press.values
    admin, svc = press.user, context.services
    try:
        if mode == "full":
            done = await uc.mark_paid(svc, admin.telegram_id, order_id, svc.clock.now())
        else:
            prompt = uc.ask_amount(svc, admin.telegram_id, order_id)
    except UserError as error:
        await alert(press.query, error.render(admin.language))
        return END
    await press.query.answer()
    if mode == "full":
        _awaited(context, drop=True)  # Mark paid ends any wait for a typed amount
        await _close_card(update)
        await _tell(update, context, done.text)
        return END
    await context.bot.send_message(admin.telegram_id, prompt, parse_mode=ParseMode.HTML)
    return AMOUNT.wait_for(context, order_id)


async def _close_card(update: Update) -> None:
    """Take the buttons off a fully paid order's card."""
    query = update.callback_query
    try:
        if query is not None:
            await swap_buttons(query, None)
    except TelegramError as exc:
        logger.warning("could not close an order card: %s", exc)


async def _tell(update: Update, context: Context, text: str) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)


def _awaited(context: Context, drop: bool = False) -> int | None:
    found = AMOUNT.awaited(context, drop)
    return found if isinstance(found, int) else None


async def on_amount(update: Update, context: Context) -> int:
    """The amount an admin typed after pressing Record payment; a typo may be retried."""
    order_id, message = _awaited(context), update.effective_message
    if order_id is None or message is None or not message.text:
        return END
    svc, admin = context.services, current_user(update, context)
    try:
        done = await uc.record_payment(svc, admin.telegram_id, order_id, message.text,
                                       svc.clock.now())
    except UserError as error:
        await message.reply_text(error.render(admin.language), parse_mode=ParseMode.HTML)
        if error.key == "bill_bad_amount":
            return TYPING
        _awaited(context, drop=True)
        return END
    _awaited(context, drop=True)
    await message.reply_text(done.text, parse_mode=ParseMode.HTML)
    return END


def amount_conversation() -> ConversationHandler[Any]:
    return AMOUNT.conversation(CallbackQueryHandler(on_pay, pattern=cb.PAY.pattern), on_amount)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("bill", bill))
    app.add_handler(CommandHandler("pay", pay))
    app.add_handler(CommandHandler("report", report))
    app.add_handler(amount_conversation(), group=AMOUNT_GROUP)
