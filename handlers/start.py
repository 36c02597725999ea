"""/start and /help: a welcome in the user's language and the command menu."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot import auth
from bot import callbacks as cb
from bot.i18n import esc, t
from bot.menus import set_admin_commands
from bot.notify import markup
from handlers.common import Context, alert, current_user


async def start(update: Update, context: Context) -> None:
    user = current_user(update, context)
    if update.effective_message is None:
        return
    if user.blocked:
        await update.effective_message.reply_text(t(user.language, "blocked"))
        return
    text = t(user.language, "welcome", name=esc(user.first_name or user.username))
    if auth.is_admin(context.services.config, user.telegram_id):
        text += "\n\n" + t(user.language, "welcome_admin")
        await set_admin_commands(context.bot, user.telegram_id, user.language)
    keyboard = markup([[cb.START_REQUEST.button(t(user.language, "btn_request"))]])
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML,
                                              reply_markup=keyboard)


async def help_command(update: Update, context: Context) -> None:
    user = current_user(update, context)
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(user.language, "help"),
                                                  parse_mode=ParseMode.HTML)


async def unknown_command(update: Update, context: Context) -> None:
    user = current_user(update, context)
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(user.language, "unknown_command"))


async def unknown_button(update: Update, context: Context) -> None:
    """A press whose data no declared kind reads (an old bot's button, or forged)."""
    if update.callback_query is not None:
        await alert(update.callback_query, t(current_user(update, context).language,
                                             "button_bad"))


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """/cancel that no open dialogue took: each dialogue answers its own /cancel and stops
    there, so this one, in a later handler group, only hears the rest."""
    user = current_user(update, context)
    if update.effective_message is not None:
        await update.effective_message.reply_text(t(user.language, "nothing_to_cancel"))
