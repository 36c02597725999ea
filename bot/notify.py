"""The Telegram side of :class:`bot.ports.Notifier`.

A lab in mainland China reaches Telegram through a proxy that drops: a network error, a
timeout, a 5xx or a flood-control pause is retried a few times with backoff; then a plain
message is kept in the outbox (``models/outbox.py``) and sent by the tick once Telegram answers,
in order. A secret (the password message) is never written down: the caller is told with
DeliveryDelayedError and delivers a fresh one later. A chat that refuses the bot (blocked,
never started) or a message Telegram rejects is logged and dropped: retrying cannot help.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.ports import Button, DeliveryDelayedError, Keyboard
from models import outbox

logger = logging.getLogger(__name__)

BACKOFF_S = (1.0, 2.0, 4.0)  # waits between tries of one message
MAX_RETRY_AFTER_S = 30.0  # a longer flood-control pause: keep the message for later instead
FLUSH_BATCH = 20


def markup(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data, url=b.url) for b in row]
         for row in buttons])


def _rows(buttons: Keyboard | None) -> outbox.Rows:
    return [[(b.text, b.data, b.url) for b in row] for row in buttons or []]


def _buttons(rows: outbox.Rows) -> Keyboard:
    return [[Button(text, data, url) for text, data, url in row] for row in rows]


class TelegramNotifier:
    def __init__(self, bot: Bot, clock: Clock, backoff: tuple[float, ...] = BACKOFF_S) -> None:
        self.bot, self.clock, self.backoff = bot, clock, backoff

    async def _try(self, chat_id: int, what: str,
                   sending: Callable[[], Awaitable[Message]]) -> int | None:
        """The message id; None when the chat or Telegram refuses it for good. Raises
        NetworkError when Telegram stayed unreachable through every try."""
        for pause in (*self.backoff, None):
            try:
                return (await sending()).message_id
            except Forbidden:
                logger.warning("chat %s does not accept %s from the bot", chat_id, what)
                return None
            except BadRequest as exc:
                logger.error("Telegram refused %s for chat %s: %s", what, chat_id, exc)
                return None
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait if isinstance(wait, (int, float)) else wait.total_seconds()
                if pause is None or seconds > MAX_RETRY_AFTER_S:
                    raise NetworkError(f"flood control for {seconds:.0f} s") from exc
                await asyncio.sleep(seconds)
            except NetworkError as exc:
                if pause is None:
                    raise
                logger.warning("Telegram unreachable sending %s (%s); again in %.0f s",
                               what, exc, pause)
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def send(self, chat_id: int, text: str, buttons: Keyboard | None = None,
                   secret: bool = False) -> int | None:
        try:
            return await self._try(chat_id, "messages", lambda: self.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup(buttons)))
        except NetworkError as exc:
            if secret:
                raise DeliveryDelayedError(str(exc)) from exc
            outbox.keep(chat_id, text, _rows(buttons), self.clock.now())
            logger.warning("Telegram unreachable: message to %s kept for later", chat_id)
            return None

    async def send_photo(self, chat_id: int, photo: bytes, caption: str,
                         buttons: Keyboard | None = None, secret: bool = False) -> int | None:
        try:
            return await self._try(chat_id, "photos", lambda: self.bot.send_photo(
                chat_id, InputFile(photo, filename="qr.png"), caption=caption,
                parse_mode=ParseMode.HTML, reply_markup=markup(buttons)))
        except NetworkError as exc:
            if secret:
                raise DeliveryDelayedError(str(exc)) from exc
            outbox.keep(chat_id, caption, _rows(buttons), self.clock.now())  # the text, at least
            return None

    async def send_document(self, chat_id: int, data: bytes, filename: str,
                            caption: str = "") -> int | None:
        try:
            return await self._try(chat_id, "documents", lambda: self.bot.send_document(
                chat_id, InputFile(data, filename=filename), caption=caption or None,
                parse_mode=ParseMode.HTML))
        except NetworkError as exc:
            logger.error("document %s to %s not delivered: %s", filename, chat_id, exc)
            return None

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
        except (Forbidden, NetworkError, RetryAfter) as exc:
            logger.warning("cannot edit message %s in %s: %s", message_id, chat_id, exc)
            return False
        return True

    async def delete(self, chat_id: int, message_id: int) -> bool:
        try:
            return bool(await self.bot.delete_message(chat_id, message_id))
        except BadRequest as exc:
            logger.warning("cannot delete message %s in %s: %s", message_id, chat_id, exc)
            return False
        except (NetworkError, RetryAfter) as exc:
            raise DeliveryDelayedError(str(exc)) from exc
        except TelegramError as exc:
            logger.warning("cannot delete message %s in %s: %s", message_id, chat_id, exc)
            return False

    async def flush(self) -> int:
        """Send what was kept, oldest first; stop at the first network error (still away)."""
        sent = 0
        for row_id, chat_id, text, rows in outbox.waiting(FLUSH_BATCH):
            keyboard = _buttons(rows)
            try:
                await self.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                            reply_markup=markup(keyboard))
            except (Forbidden, BadRequest) as exc:
                logger.warning("kept message to %s dropped: %s", chat_id, exc)
            except (NetworkError, RetryAfter):
                break
            else:
                sent += 1
            outbox.done(row_id)
        if sent:
            logger.info("outbox: %d kept message(s) delivered", sent)
        return sent
