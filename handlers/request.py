"""/request: image → GPUs → plan → quantity → purpose → ports → summary → confirm.

One message is edited as the student taps through; typed answers (custom image, quantity,
purpose, ports) get a fresh message for the next step. Back on every step, /cancel anywhere.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks as cb
from bot.errors import UserError
from bot.notify import markup
from bot.usecases import request as uc
from bot.usecases.approve import send_cards
from handlers import request_views as views
from handlers.common import Context, Press, alert, current_user, pressed
from handlers.request_views import (
    BACK,
    CUSTOM,
    IMAGE,
    PORTS,
    PURPOSE,
    QUANTITY,
    SUMMARY,
)


def draft(context: Context) -> uc.Draft:
    data = context.user_data if context.user_data is not None else {}
    found = data.get("draft")
    if not isinstance(found, uc.Draft):
        found = data["draft"] = uc.Draft()
    return found


async def show(update: Update, context: Context, state: int, edit: bool = True) -> int:
    """Render ``state``'s question, editing the current message when we came from a button."""
    user = current_user(update, context)
    text, buttons = views.step(context.services, user.language, state, draft(context))
    keyboard = markup(buttons)
    query = update.callback_query
    if edit and query is not None and query.message is not None:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    elif update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, text,
                                       parse_mode=ParseMode.HTML, reply_markup=keyboard)
    return state


async def refuse(update: Update, context: Context, error: UserError, state: int) -> int:
    user = current_user(update, context)
    if update.callback_query is not None:
        await alert(update.callback_query, error.render(user.language))
        return state
    if update.effective_message is not None:
        await update.effective_message.reply_text(error.render(user.language),
                                                  parse_mode=ParseMode.HTML)
    return state


async def begin(update: Update, context: Context) -> int:
    # A press is answered once: by the refusal's pop-up, or plainly once preflight passed.
    try:
        uc.preflight(context.services.config, current_user(update, context))
    except UserError as error:
        await refuse(update, context, error, ConversationHandler.END)
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    if context.user_data is not None:
        context.user_data["draft"] = uc.Draft()
    return await show(update, context, IMAGE, edit=False)


@pressed(cb.START_REQUEST)
async def begin_button(update: Update, context: Context, press: Press) -> int:
    return await begin(update, context)


@pressed(cb.REQUEST_STEP)
async def on_button(update: Update, context: Context, press: Press) -> int | None:
    """Every inline button of the dialogue: a step and the value chosen. A refused one leaves
    the dialogue at the step it is at (None), whichever step the button was for."""
    query, (step, value) = press.query, press.values
    svc, d = context.services, draft(context)
    try:
        nxt = views.apply_button(svc.config, d, step, value)
    except UserError as error:
        await refuse(update, context, error, IMAGE)
        return None
    if nxt == views.CONFIRM_MARK:
        return await confirm(update, context)  # answers the press itself
    if nxt == views.BACK_MARK:
        nxt = BACK.get(views.state_of(value), IMAGE)
    if not views.ready(d, nxt):
        await refuse(update, context, UserError("req_stale"), IMAGE)
        return None
    await query.answer()
    return await show(update, context, nxt)


async def on_text(update: Update, context: Context) -> int:
    message = update.effective_message
    assert message is not None and message.text is not None
    state = int(context.user_data.get("typing", IMAGE)) if context.user_data else IMAGE
    try:
        nxt = views.apply_text(context.services.config, draft(context), state, message.text)
        if not views.ready(draft(context), nxt):
            raise UserError("req_stale")
    except UserError as error:
        return await refuse(update, context, error, state)
    return await show(update, context, nxt, edit=False)


async def confirm(update: Update, context: Context) -> int:
    svc, user = context.services, current_user(update, context)
    try:
        rental = uc.submit(svc.config, user, draft(context), svc.clock.now())
    except UserError as error:
        await refuse(update, context, error, SUMMARY)
        return ConversationHandler.END
    query = update.callback_query
    text = views.submitted_text(user.language, rental)
    if query is not None:
        await query.answer()
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    await send_cards(svc, rental)
    return ConversationHandler.END


async def cancel(update: Update, context: Context) -> int:
    """/cancel or the Cancel button; later handler groups do not hear this /cancel."""
    user = current_user(update, context)
    if context.user_data is not None:
        context.user_data.pop("draft", None)
    text = views.cancelled_text(user.language)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
    raise ApplicationHandlerStop(ConversationHandler.END)


@pressed(cb.REQUEST_CANCEL)
async def cancel_button(update: Update, context: Context, press: Press) -> int:
    return await cancel(update, context)


def typing_state(state: int) -> Any:
    """A text handler for a step that takes typed input; it remembers which step it is."""

    async def handle(update: Update, context: Context) -> int:
        if context.user_data is not None:
            context.user_data["typing"] = state
        return await on_text(update, context)

    return MessageHandler(filters.TEXT & ~filters.COMMAND, handle)


async def use_buttons(update: Update, context: Context) -> None:
    """Text typed where the step wants a tap."""
    user = current_user(update, context)
    if update.effective_message is not None:
        await update.effective_message.reply_text(UserError("req_use_buttons").render(
            user.language))


async def stale_button(update: Update, context: Context) -> None:
    """A button of a dialogue that has ended (or of another one): say so, change nothing."""
    if update.callback_query is not None:
        user = current_user(update, context)
        await alert(update.callback_query, UserError("req_stale").render(user.language))


def conversation() -> ConversationHandler[Any]:
    buttons = CallbackQueryHandler(on_button, pattern=cb.REQUEST_STEP.pattern)
    tapping = MessageHandler(filters.TEXT & ~filters.COMMAND, use_buttons)
    states: dict[object, list[Any]] = {s: [buttons, tapping] for s in range(8)}
    for s in (CUSTOM, QUANTITY, PURPOSE, PORTS):
        states[s] = [buttons, typing_state(s)]
    with warnings.catch_warnings():
        # PTB warns that with per_message=False buttons are tracked per chat, not per
        # message: that is what this dialogue wants (one edited message per step).
        warnings.filterwarnings("ignore", message=".*per_message=False", category=UserWarning)
        return _conversation(states)


def _conversation(states: dict[object, list[Any]]) -> ConversationHandler[Any]:
    return ConversationHandler(
        entry_points=[CommandHandler("request", begin),
                      CallbackQueryHandler(begin_button, pattern=cb.START_REQUEST.pattern)],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel),
                   CallbackQueryHandler(cancel_button, pattern=cb.REQUEST_CANCEL.pattern),
                   CommandHandler("request", begin)],
        name="request", allow_reentry=True, per_message=False,
    )


def stale_buttons() -> list[CallbackQueryHandler[Any, Any]]:
    """For the group after the dialogue: its buttons pressed when no dialogue is open."""
    return [CallbackQueryHandler(stale_button, pattern=kind.pattern)
            for kind in (cb.REQUEST_STEP, cb.REQUEST_CANCEL)]
