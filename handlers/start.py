"""/start and /help: a welcome in the user's language and the command menu."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.i18n import esc, t
from bot.menus import set_admin_commands
from handlers.approval import TYPED_REASON_KEY
from handlers.billing import AMOUNT_KEY
from handlers.common import Context, current_user


async def start(update: Update, context: Context) -> None:
    user = current_user(update, context)
    if update.effective_message is None:
        return
    if user.blocked:
        await update.effective_message.reply_text(t(user.language, "blocked"))
        return
    text = t(user.language, "welcome", name=esc(user.first_name or user.username))
    if user.role == "admin":
        text += "\n\n" + t(user.language, "welcome_admin")
        await set_admin_commands(context.bot, user.telegram_id, user.language)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(user.language, "btn_request"), callback_data="req:start")]])
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


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """/cancel with no dialogue open: drops a typed rejection reason being waited for; a
    pending payment amount has its own /cancel (handlers.billing)."""
    user = current_user(update, context)
    data = context.user_data if context.user_data is not None else {}
    if AMOUNT_KEY in data or update.effective_message is None:
        return
    key = "reject_cancelled" if data.pop(TYPED_REASON_KEY, None) else "nothing_to_cancel"
    await update.effective_message.reply_text(t(user.language, key))
