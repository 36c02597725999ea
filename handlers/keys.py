"""SSH keys: a public key sent as text (one line starting with its type) or as a ``.pub`` file
is added; /keys lists them with a Remove button each. The use case checks the key is the
presser's own."""

from __future__ import annotations

import re

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import callbacks as cb
from bot.errors import UserError
from bot.notify import markup
from bot.usecases import keys as uc
from handlers.common import Context, Press, alert, current_user, pressed

GROUP = 4  # after the dialogues (0-2) and /cancel (3): a key pasted in a dialogue is a key too
KEY_START = re.compile(r"^\s*(ssh-|ecdsa-|sk-|-----BEGIN)")
MAX_FILE = 16_384


async def _add(update: Update, context: Context, text: str) -> None:
    message = update.effective_message
    if message is None:
        return
    svc, user = context.services, current_user(update, context)
    try:
        reply = await uc.add(svc, user, text, svc.clock.now())
    except UserError as error:
        reply = error.render(user.language)
    await message.reply_text(reply, parse_mode=ParseMode.HTML)


async def on_key_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await _add(update, context, message.text)


async def on_key_file(update: Update, context: Context) -> None:
    message = update.effective_message
    document = message.document if message is not None else None
    if document is None or (document.file_size or 0) > MAX_FILE:
        await _add(update, context, "")  # refused as not a key, with the reason
        return
    data = await (await document.get_file()).download_as_bytearray()
    await _add(update, context, bytes(data).decode("utf-8", "replace"))


async def keys_command(update: Update, context: Context) -> None:
    if update.effective_message is None:
        return
    text, buttons = uc.listing(current_user(update, context))
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML,
                                              reply_markup=markup(buttons))


@pressed(cb.KEY_REMOVE)
async def on_remove(update: Update, context: Context, press: Press) -> None:
    svc, user = context.services, press.user
    try:
        text = await uc.remove(svc, user, press.values[0], svc.clock.now())
    except UserError as error:
        await alert(press.query, error.render(user.language))
        return
    await press.query.answer()
    listing, buttons = uc.listing(user)
    await press.query.edit_message_text(text + "\n\n" + listing, parse_mode=ParseMode.HTML,
                                        reply_markup=markup(buttons))


def register(app: Application) -> None:  # type: ignore[type-arg, unused-ignore]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("keys", keys_command))
    app.add_handler(CallbackQueryHandler(on_remove, pattern=cb.KEY_REMOVE.pattern))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND
                                   & filters.Regex(KEY_START), on_key_text), group=GROUP)
    app.add_handler(MessageHandler(private & filters.Document.FileExtension("pub"),
                                   on_key_file), group=GROUP)
