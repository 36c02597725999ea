"""Change image / Change ports under a rental in /my: a pick (or a typed reference or port
list) → the fee and Send → the admins' card (Approve / Reject). The use case does the rest;
typed answers wait in a ConversationHandler keyed by the student."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.services import Services
from bot.usecases import changes as uc
from handlers.common import Context, Press, alert, current_user, edit_or_alert, pressed
from models.tables import User

TYPING = 0
END = ConversationHandler.END
GROUP = 2  # beside the payment amount dialogue: after the request dialogue and reject reasons
TYPED_TTL = timedelta(minutes=10)
RETRY = ("req_image_bad", "req_image_registry", "req_image_reserved", "req_port_bad",
         "req_port_reserved", "req_port_many", "chg_same_image", "chg_ports_same")


@pressed(cb.CHANGE_IMAGE)
async def on_image(update: Update, context: Context, press: Press) -> None:
    svc = context.services
    await edit_or_alert(press, lambda: uc.image_menu(svc, press.values[0], press.user))


@pressed(cb.CHANGE_IMAGE_PICK)
async def on_image_pick(update: Update, context: Context, press: Press) -> None:
    rental_id, key = press.values
    svc = context.services
    await edit_or_alert(press, lambda: uc.propose_image(svc, rental_id, press.user,
                                                        svc.clock.now(), key=key))


async def _ask(context: Context, press: Press, what: str,
               prompt: Callable[[Services, int, User], str]) -> int | None:
    try:
        text = prompt(context.services, press.values[0], press.user)
    except UserError as error:
        await alert(press.query, error.render(press.user.language))
        return END
    await press.query.answer()
    if context.user_data is not None:
        context.user_data["change_typed"] = (what, press.values[0])
    await press.query.edit_message_text(text, parse_mode=ParseMode.HTML)
    return TYPING


@pressed(cb.CHANGE_IMAGE_CUSTOM)
async def on_image_custom(update: Update, context: Context, press: Press) -> int | None:
    return await _ask(context, press, "image", uc.image_prompt)


@pressed(cb.CHANGE_PORTS)
async def on_ports(update: Update, context: Context, press: Press) -> int | None:
    return await _ask(context, press, "ports", uc.ports_prompt)


async def on_typed(update: Update, context: Context) -> int:
    """The typed reference or port list; a typo may be retried."""
    awaited = (context.user_data or {}).get("change_typed")
    message = update.effective_message
    if awaited is None or message is None or not message.text:
        return END
    svc, user, (what, rental_id) = context.services, current_user(update, context), awaited
    try:
        if what == "image":
            text, buttons = uc.propose_image(svc, rental_id, user, svc.clock.now(),
                                             typed=message.text)
        else:
            text, buttons = uc.propose_ports(svc, rental_id, user, svc.clock.now(), message.text)
    except UserError as error:
        await message.reply_text(error.render(user.language), parse_mode=ParseMode.HTML)
        return TYPING if error.key in RETRY else _drop(context)
    _drop(context)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(buttons))
    return END


def _drop(context: Context) -> int:
    if context.user_data is not None:
        context.user_data.pop("change_typed", None)
    return END


async def on_cancel(update: Update, context: Context) -> int:
    _drop(context)
    if update.effective_message is not None:
        user = current_user(update, context)
        await update.effective_message.reply_text(t(user.language, "chg_cancelled"))
    raise ApplicationHandlerStop(END)  # /cancel is answered once, here


@pressed(cb.CHANGE_SEND)
async def on_send(update: Update, context: Context, press: Press) -> None:
    svc, user = context.services, press.user
    rental_id, change_id = press.values
    try:
        text = await uc.send(svc, rental_id, change_id, user, svc.clock.now())
    except UserError as error:
        await alert(press.query, error.render(user.language))
        return
    await press.query.answer()
    await press.query.edit_message_text(text, parse_mode=ParseMode.HTML)


async def _decide(context: Context, press: Press, yes: bool) -> None:
    svc = context.services
    try:
        text = await uc.decide(svc, press.user, press.values[0], yes, svc.clock.now())
    except UserError as error:
        await alert(press.query, error.render(press.user.language))
        return
    await press.query.answer(text)


@pressed(cb.CHANGE_APPROVE)
async def on_approve(update: Update, context: Context, press: Press) -> None:
    await _decide(context, press, True)


@pressed(cb.CHANGE_REJECT)
async def on_reject(update: Update, context: Context, press: Press) -> None:
    await _decide(context, press, False)


def typed_conversation() -> ConversationHandler[Any]:
    private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    entry: list[BaseHandler[Update, Any, Any]] = [
        CallbackQueryHandler(on_image_custom, pattern=cb.CHANGE_IMAGE_CUSTOM.pattern),
        CallbackQueryHandler(on_ports, pattern=cb.CHANGE_PORTS.pattern)]
    with warnings.catch_warnings():
        # The typed answer follows the press in the same private chat: per chat and user.
        warnings.filterwarnings("ignore", message=".*per_message", category=UserWarning)
        return ConversationHandler(
            entry_points=entry, states={TYPING: [MessageHandler(private_text, on_typed)]},
            fallbacks=[CommandHandler("cancel", on_cancel, filters=filters.ChatType.PRIVATE)],
            name="change_typed", allow_reentry=True, conversation_timeout=TYPED_TTL,
        )


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    for kind, handler in ((cb.CHANGE_IMAGE, on_image), (cb.CHANGE_IMAGE_PICK, on_image_pick),
                          (cb.CHANGE_SEND, on_send), (cb.CHANGE_APPROVE, on_approve),
                          (cb.CHANGE_REJECT, on_reject)):
        app.add_handler(CallbackQueryHandler(handler, pattern=kind.pattern))
    app.add_handler(typed_conversation(), group=GROUP)
