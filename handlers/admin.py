"""Admin commands: /pending (cards again), /hosts (a table and a 24 h chart), /broadcast,
/maintenance and /audit. The sender's id is checked against the configured admins first."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot import auth
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.usecases import admin_views, approve, console_misc, host_view
from handlers.common import Context, current_user
from models.tables import User


async def _admin_or_refuse(update: Update, context: Context) -> str | None:
    user = current_user(update, context)
    try:
        auth.require_admin(context.services.config, user)
    except UserError as error:
        if update.effective_message is not None:
            await update.effective_message.reply_text(error.render(user.language))
        return None
    return str(user.language)


async def pending(update: Update, context: Context) -> None:
    lang = await _admin_or_refuse(update, context)
    if lang is None or update.effective_message is None:
        return
    waiting = admin_views.pending()
    if not waiting:
        await update.effective_message.reply_text(t(lang, "pending_none"))
        return
    svc = context.services
    for rental in waiting:
        text = approve.card_text(svc, rental, lang) + "\n" + approve.where_text(rental, lang)
        buttons = markup(approve.card_buttons(rental, lang))
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML,
                                                  reply_markup=buttons)


async def hosts(update: Update, context: Context) -> None:
    """The table, then the 24 h chart as a photo (it asks every engine: a moment)."""
    lang, message = await _admin_or_refuse(update, context), update.effective_message
    if lang is None or message is None:
        return
    svc = context.services
    found = await host_view.report(svc, current_user(update, context), svc.clock.now())
    await message.reply_text(found.text, parse_mode=ParseMode.HTML)
    await message.reply_photo(found.chart, caption=t(lang, "hosts_chart"))


async def broadcast(update: Update, context: Context) -> None:
    """Sent beside the chat (it is paced under Telegram's limits); the count follows."""
    lang, message = await _admin_or_refuse(update, context), update.effective_message
    if lang is None or message is None:
        return
    svc, admin = context.services, current_user(update, context)
    try:
        console_misc.parse_broadcast(message.text or "")
    except UserError as error:
        await message.reply_text(error.render(lang), parse_mode=ParseMode.HTML)
        return
    await message.reply_text(t(lang, "ac_broadcast_sending"))
    svc.spawn(_broadcast(context, admin, message.text or "", message.chat_id), name="broadcast")


async def _broadcast(context: Context, admin: User, text: str, chat_id: int) -> None:
    svc = context.services
    answer = await console_misc.broadcast(svc, admin, text, svc.clock.now())
    await svc.notifier.send(chat_id, answer)


async def maintenance(update: Update, context: Context) -> None:
    await _answer(update, context, lambda user: console_misc.maintenance(
        context.services.config, user, list(context.args or []), context.services.clock.now()))


async def audit(update: Update, context: Context) -> None:
    await _answer(update, context, lambda user: console_misc.audit(
        context.services.config, user, list(context.args or [])))


async def _answer(update: Update, context: Context, view: Callable[[User], str]) -> None:
    lang, message = await _admin_or_refuse(update, context), update.effective_message
    if lang is None or message is None:
        return
    try:
        text = view(current_user(update, context))
    except UserError as error:
        text = error.render(lang)
    await message.reply_text(text, parse_mode=ParseMode.HTML)


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CommandHandler("pending", pending))
    app.add_handler(CommandHandler("hosts", hosts))
    app.add_handler(CommandHandler("broadcast", broadcast))
    app.add_handler(CommandHandler("maintenance", maintenance))
    app.add_handler(CommandHandler("audit", audit))
