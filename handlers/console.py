"""The admin console in chat: /rentals, /rental ID, /queue, /users, /user ID|@name and their
buttons. Every command asks the use case, which checks the sender's id against the configured
admins; every button is an ``admin`` kind, so the guard refuses anyone else before this runs.

Typed input (a block reason, an amount, a message to the student) waits in a conversation keyed
by the admin alone (``per_chat=False``: the card may sit in the admin group), beside the other
typed dialogues in group 2 (``handlers/typed.py``); it ends on the text, on /cancel or after
ten minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
)

from bot import auth
from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.ports import Keyboard
from bot.usecases import console, console_actions, console_misc, console_users
from handlers.common import Context, Press, alert, current_user, edit_or_alert, pressed
from handlers.typed import END, TYPING, TypedInput

TYPED_GROUP = 2
TYPED = TypedInput("console_typed", "ac_typed_cancelled", "ac_typed_expired",
                   timedelta(minutes=10))
View = Callable[[], tuple[str, Keyboard]]


async def _show(update: Update, context: Context, view: View) -> None:
    """Reply with the view, or with why not; the sender's id is checked before the arguments
    are even read."""
    message, user = update.effective_message, current_user(update, context)
    if message is None:
        return
    try:
        auth.require_admin(context.services.config, user)
        text, buttons = view()
    except UserError as error:
        await message.reply_text(error.render(user.language), parse_mode=ParseMode.HTML)
        return
    await message.reply_text(text, parse_mode=ParseMode.HTML,
                             reply_markup=markup(buttons) if buttons else None)


def _args(context: Context) -> list[str]:
    return list(context.args or [])


async def rentals_command(update: Update, context: Context) -> None:
    cfg, user = context.services.config, current_user(update, context)
    await _show(update, context, lambda: console.rentals_page(
        cfg, user, console.parse_filter(_args(context)), 1))


async def rental_command(update: Update, context: Context) -> None:
    svc, user = context.services, current_user(update, context)
    await _show(update, context, lambda: console.card(svc, user,
                                                      console.parse_id(_args(context))))


async def queue_command(update: Update, context: Context) -> None:
    cfg, user = context.services.config, current_user(update, context)
    await _show(update, context, lambda: console_misc.queue_view(cfg, user))


async def users_command(update: Update, context: Context) -> None:
    cfg, user = context.services.config, current_user(update, context)
    await _show(update, context, lambda: console_users.users_page(cfg, user, 1))


async def user_command(update: Update, context: Context) -> None:
    cfg, user = context.services.config, current_user(update, context)
    await _show(update, context, lambda: console_users.card(
        cfg, user, console_users.find(_args(context))))


@pressed(cb.CONSOLE_RENTALS)
async def on_rentals_page(update: Update, context: Context, press: Press) -> None:
    which, page = press.values
    await edit_or_alert(press, lambda: console.rentals_page(context.services.config, press.user,
                                                            which, page))


@pressed(cb.CONSOLE_RENTAL)
async def on_rental(update: Update, context: Context, press: Press) -> None:
    await edit_or_alert(press, lambda: console.card(context.services, press.user, press.values[0]))


@pressed(cb.CONSOLE_ACT)
async def on_act(update: Update, context: Context, press: Press) -> None:
    rental_id, act = press.values
    await edit_or_alert(press, lambda: console.confirm(context.services, press.user, rental_id,
                                                       act))


@pressed(cb.CONSOLE_ACT_OK)
async def on_act_yes(update: Update, context: Context, press: Press) -> None:
    """Confirmed: say it has begun and run it beside the chat; the outcome follows."""
    rental_id, act, seen = press.values
    svc, lang = context.services, press.user.language
    try:
        console.still_fresh(rental_id, seen)
    except UserError as error:
        await alert(press.query, error.render(lang))
        return
    await press.query.answer()
    await press.query.edit_message_text(t(lang, "ac_working", ref=f"R{rental_id}"))
    chat = press.query.message.chat.id if press.query.message else press.user.telegram_id
    svc.spawn(console_actions.run_and_tell(svc, press.user, rental_id, act, seen, chat),
              name=f"admin-{act}-R{rental_id}")


@pressed(cb.CONSOLE_USERS)
async def on_users_page(update: Update, context: Context, press: Press) -> None:
    await edit_or_alert(press, lambda: console_users.users_page(context.services.config,
                                                                press.user, press.values[0]))


@pressed(cb.CONSOLE_USER)
async def on_user(update: Update, context: Context, press: Press) -> None:
    cfg = context.services.config
    await edit_or_alert(press, lambda: console_users.card(
        cfg, press.user, console_users.target(cfg, press.user, press.values[0])))


@pressed(cb.CONSOLE_QUEUE_UP)
async def on_queue_up(update: Update, context: Context, press: Press) -> None:
    svc = context.services

    def moved() -> tuple[str, Keyboard]:
        console_misc.move_up(svc.config, press.user, press.values[0], svc.clock.now())
        return console_misc.queue_view(svc.config, press.user)

    await edit_or_alert(press, moved)


@pressed(cb.CONSOLE_QUEUE_CANCEL)
async def on_queue_cancel(update: Update, context: Context, press: Press) -> None:
    svc, lang = context.services, press.user.language
    try:
        await console_misc.cancel_queued(svc, press.user, press.values[0], svc.clock.now())
    except UserError as error:
        await alert(press.query, error.render(lang))
        return
    await edit_or_alert(press, lambda: console_misc.queue_view(svc.config, press.user))


# --- typed input: a reason, an amount, a message -----------------------------------------

@pressed(cb.CONSOLE_USER_ACT)
async def on_user_act(update: Update, context: Context, press: Press) -> int:
    """Ask the admin, in their private chat, for what the action needs typed."""
    user_id, act = press.values
    cfg, admin = context.services.config, press.user
    try:
        student = console_users.target(cfg, admin, user_id)
    except UserError as error:
        await alert(press.query, error.render(admin.language))
        return END
    await press.query.answer()
    await context.bot.send_message(admin.telegram_id, console_users.prompt(admin, student, act),
                                   parse_mode=ParseMode.HTML)
    return TYPED.wait_for(context, (user_id, act))


def _awaited(context: Context, drop: bool = False) -> tuple[int, str] | None:
    found = TYPED.awaited(context, drop)
    return found if isinstance(found, tuple) else None


async def on_typed(update: Update, context: Context) -> int:
    """The reason, amount or message; a mistyped amount may be typed again."""
    waiting, message = _awaited(context), update.effective_message
    if waiting is None or message is None or not message.text:
        return END
    svc, admin = context.services, current_user(update, context)
    try:
        answer = await console_users.apply(svc, admin, *waiting, message.text, svc.clock.now())
    except UserError as error:
        await message.reply_text(error.render(admin.language), parse_mode=ParseMode.HTML)
        if error.key.startswith("ac_bad_"):
            return TYPING
        _awaited(context, drop=True)
        raise ApplicationHandlerStop(END) from None
    _awaited(context, drop=True)
    await message.reply_text(answer, parse_mode=ParseMode.HTML)
    raise ApplicationHandlerStop(END)  # the text was for this action only


def typed_conversation() -> ConversationHandler[Any]:
    return TYPED.conversation(
        CallbackQueryHandler(on_user_act, pattern=cb.CONSOLE_USER_ACT.pattern), on_typed)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    for name, command in (("rentals", rentals_command), ("rental", rental_command),
                          ("queue", queue_command), ("users", users_command),
                          ("user", user_command)):
        app.add_handler(CommandHandler(name, command))
    for kind, handler in ((cb.CONSOLE_RENTALS, on_rentals_page), (cb.CONSOLE_RENTAL, on_rental),
                          (cb.CONSOLE_ACT, on_act), (cb.CONSOLE_ACT_OK, on_act_yes),
                          (cb.CONSOLE_USERS, on_users_page), (cb.CONSOLE_USER, on_user),
                          (cb.CONSOLE_QUEUE_UP, on_queue_up),
                          (cb.CONSOLE_QUEUE_CANCEL, on_queue_cancel)):
        app.add_handler(CallbackQueryHandler(handler, pattern=kind.pattern))
    app.add_handler(typed_conversation(), group=TYPED_GROUP)
