"""Approval cards: Approve, Reject with a reason (quick choice or typed)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.usecases import approve
from bot.usecases.decide import after_decision
from handlers.common import Context, alert, current_user, services

TYPED_REASON_KEY = "reject_for"


async def _decide(update: Update, context: Context, rental_id: int, ok: bool,
                  reason: str) -> None:
    svc, admin = services(context), current_user(update, context)
    now = svc.clock.now()
    query = update.callback_query
    try:
        decision = approve.decide(svc, rental_id, admin.telegram_id, ok, reason, now)
    except UserError as error:
        text = error.render(admin.language)
        if query is not None:
            await alert(query, text)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
        return
    if query is not None:
        await query.answer(t(admin.language, "card_done_approved" if ok else "card_done_rejected"))
    await after_decision(svc, decision, now)


def _rental_id(data: str) -> int:
    return int(data.split(":")[1])


async def on_approve(update: Update, context: Context) -> None:
    assert update.callback_query is not None and update.callback_query.data
    await _decide(update, context, _rental_id(update.callback_query.data), True, "")


async def on_reject(update: Update, context: Context) -> None:
    """Swap the card's buttons for the reasons, if the presser may decide and it is open."""
    query = update.callback_query
    assert query is not None and query.data
    svc, admin = services(context), current_user(update, context)
    try:
        approve.require_admin(svc, admin.telegram_id)
        rental = approve.open_card(_rental_id(query.data), admin.language, svc)
    except UserError as error:
        await alert(query, error.render(admin.language))
        return
    await query.answer()
    await query.edit_message_reply_markup(markup(approve.reason_buttons(rental, admin.language)))


async def on_reason(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data
    _, rid, key = query.data.split(":")
    admin = current_user(update, context)
    if key == "other":
        if context.user_data is not None:
            context.user_data[TYPED_REASON_KEY] = int(rid)
        await query.answer()
        await context.bot.send_message(admin.telegram_id, t(admin.language, "reject_type"))
        return
    await _decide(update, context, int(rid), False, t(admin.language, f"reject_{key}"))


async def on_typed_reason(update: Update, context: Context) -> None:
    data = context.user_data
    message = update.effective_message
    if data is None or TYPED_REASON_KEY not in data or message is None or not message.text:
        return
    rental_id = int(data.pop(TYPED_REASON_KEY))
    await _decide(update, context, rental_id, False, message.text.strip()[:300])


async def on_card_back(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data
    admin = current_user(update, context)
    await query.answer()
    rental = approve.open_card(_rental_id(query.data), admin.language, services(context))
    await query.edit_message_reply_markup(markup(approve.card_buttons(rental, admin.language)))


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CallbackQueryHandler(on_approve, pattern=r"^appr:\d+$"))
    app.add_handler(CallbackQueryHandler(on_reject, pattern=r"^rej:\d+$"))
    app.add_handler(CallbackQueryHandler(on_reason, pattern=r"^rejr:\d+:\w+$"))
    app.add_handler(CallbackQueryHandler(on_card_back, pattern=r"^card:\d+$"))
    # Group 1 so the request dialogue (group 0) keeps its typed answers.
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE,
                                   on_typed_reason), group=1)
