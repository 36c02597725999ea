"""Approval cards: Approve, Reject with a reason (quick choice or typed).

"Other" asks the admin, in their private chat, to type the reason: a ConversationHandler keyed
by the admin alone (``per_chat=False``), so a card pressed in a group gets its reason from the
private chat. It lives in its own handler group so the /request dialogue (group 0) keeps its
typed answers, and ends on the reason, on /cancel or after ``REASON_TTL``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ConversationHandler,
)

from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.usecases import approve
from bot.usecases.after_decision import after_decision
from handlers.common import Context, Press, alert, current_user, pressed, swap_buttons
from handlers.typed import END, TypedInput

REASON_GROUP = 1
REASON_TTL = timedelta(minutes=10)
REASON = TypedInput("reject_for", "reject_cancelled", "reject_expired", REASON_TTL)


async def _decide(update: Update, context: Context, rental_id: int, ok: bool,
                  reason: str) -> None:
    svc, admin = context.services, current_user(update, context)
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


@pressed(cb.APPROVE)
async def on_approve(update: Update, context: Context, press: Press) -> None:
    await _decide(update, context, press.values[0], True, "")


@pressed(cb.REJECT)
async def on_reject(update: Update, context: Context, press: Press) -> None:
    """Swap the card's buttons for the reasons, if the card still waits for a decision."""
    lang = press.user.language
    try:
        rental = approve.open_card(press.values[0], lang, context.services)
    except UserError as error:
        await alert(press.query, error.render(lang))
        return
    await press.query.answer()
    await swap_buttons(press.query, markup(approve.reason_buttons(rental, lang)))


@pressed(cb.REJECT_REASON)
async def on_reason(update: Update, context: Context, press: Press) -> int:
    """A quick reason decides at once; "Other" waits for the admin to type one."""
    rental_id, key = press.values
    admin = press.user
    if key != "other":
        _pending(context)  # a quick reason ends any wait for a typed one
        await _decide(update, context, rental_id, False, approve.quick_reason(key))
        return END
    try:
        approve.open_card(rental_id, admin.language, context.services)
    except UserError as error:
        await alert(press.query, error.render(admin.language))
        return END
    await press.query.answer()
    await context.bot.send_message(admin.telegram_id, t(admin.language, "reject_type"))
    return REASON.wait_for(context, rental_id)


def _pending(context: Context) -> int | None:
    found = REASON.awaited(context, drop=True)
    return found if isinstance(found, int) else None


async def on_typed_reason(update: Update, context: Context) -> int:
    message, rental_id = update.effective_message, _pending(context)
    if message is not None and message.text and rental_id is not None:
        await _decide(update, context, rental_id, False, message.text.strip()[:300])
    raise ApplicationHandlerStop(END)  # the reason was for this card only


@pressed(cb.BACK_TO_CARD)
async def on_card_back(update: Update, context: Context, press: Press) -> None:
    lang = press.user.language
    try:
        rental = approve.open_card(press.values[0], lang, context.services)
    except UserError as error:
        await alert(press.query, error.render(lang))
        return
    await press.query.answer()
    await swap_buttons(press.query, markup(approve.card_buttons(rental, lang)))


def reason_conversation() -> ConversationHandler[Any]:
    entry = CallbackQueryHandler(on_reason, pattern=cb.REJECT_REASON.pattern)
    return REASON.conversation(entry, on_typed_reason)


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CallbackQueryHandler(on_approve, pattern=cb.APPROVE.pattern))
    app.add_handler(CallbackQueryHandler(on_reject, pattern=cb.REJECT.pattern))
    app.add_handler(CallbackQueryHandler(on_card_back, pattern=cb.BACK_TO_CARD.pattern))
    app.add_handler(reason_conversation(), group=REASON_GROUP)
