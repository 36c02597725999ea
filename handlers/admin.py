"""Admin commands: /pending (cards again) and /hosts (who holds which GPU)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot import auth
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.usecases import admin_views, approve
from handlers.common import Context, current_user


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
    lang = await _admin_or_refuse(update, context)
    if lang is not None and update.effective_message is not None:
        await update.effective_message.reply_text(admin_views.hosts_text(lang),
                                                  parse_mode=ParseMode.HTML)


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    app.add_handler(CommandHandler("pending", pending))
    app.add_handler(CommandHandler("hosts", hosts))
