"""The Telegram side of :class:`bot.ports.Notifier`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.ports import Keyboard

logger = logging.getLogger(__name__)


def markup(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data, url=b.url) for b in row]
         for row in buttons])


class TelegramNotifier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _deliver(self, chat_id: int, what: str,
                       sending: Awaitable[Message]) -> int | None:
        """Send, or log and return None when the chat refuses the bot (blocked, never started)."""
        try:
            msg = await sending
        except Forbidden:
            logger.warning("chat %s does not accept %s from the bot", chat_id, what)
            return None
        return msg.message_id

    async def send(self, chat_id: int, text: str, buttons: Keyboard | None = None) -> int | None:
        return await self._deliver(chat_id, "messages", self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup(buttons)))

    async def send_photo(self, chat_id: int, photo: bytes, caption: str,
                         buttons: Keyboard | None = None) -> int | None:
        return await self._deliver(chat_id, "photos", self.bot.send_photo(
            chat_id, InputFile(photo, filename="qr.png"), caption=caption,
            parse_mode=ParseMode.HTML, reply_markup=markup(buttons)))

    async def send_document(self, chat_id: int, data: bytes, filename: str,
                            caption: str = "") -> int | None:
        return await self._deliver(chat_id, "documents", self.bot.send_document(
            chat_id, InputFile(data, filename=filename), caption=caption or None,
            parse_mode=ParseMode.HTML))

    async def edit(self, chat_id: int, message_id: int, text: str,
                   buttons: Keyboard | None = None) -> bool:
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                             parse_mode=ParseMode.HTML,
                                             reply_markup=markup(buttons))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            logger.warning("cannot edit message %s in %s: %s", message_id, chat_id, exc)
            return False
        except Forbidden:
            return False
        return True

    async def delete(self, chat_id: int, message_id: int) -> bool:
        try:
            return bool(await self.bot.delete_message(chat_id, message_id))
        except TelegramError as exc:
            logger.warning("cannot delete message %s in %s: %s", message_id, chat_id, exc)
            return False
