"""A value an admin types in their private chat after pressing a button (a reject reason, a
payment amount, a console action's argument): one ConversationHandler shape for all of them.

Keyed by the admin alone (``per_chat=False``), so a button pressed in the admin group gets its
answer from the private chat; each lives in its own handler group, so the /request dialogue
(group 0) keeps its typed answers. It ends on the answer, on /cancel (answered once, here) or
after ``ttl`` (the admin is told). What is awaited sits in ``user_data[key]``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.i18n import t
from handlers.common import Context, current_user

TYPING = 0
END = ConversationHandler.END
PRIVATE_TEXT = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE


@dataclass(frozen=True)
class TypedInput:
    key: str  # in user_data, and the conversation's name
    cancelled: str  # what /cancel says (catalogue key)
    expired: str  # what the end of the wait says (catalogue key)
    ttl: timedelta

    def wait_for(self, context: Context, value: Any) -> int:
        if context.user_data is not None:
            context.user_data[self.key] = value
        return TYPING

    def awaited(self, context: Context, drop: bool = False) -> Any:
        data = context.user_data
        if data is None:
            return None
        return data.pop(self.key, None) if drop else data.get(self.key)

    async def on_cancel(self, update: Update, context: Context) -> int:
        self.awaited(context, drop=True)
        if update.effective_message is not None:
            user = current_user(update, context)
            await update.effective_message.reply_text(t(user.language, self.cancelled))
        raise ApplicationHandlerStop(END)  # /cancel is answered once, here

    async def on_timeout(self, update: Update, context: Context) -> None:
        if self.awaited(context, drop=True) is not None and update.effective_user is not None:
            user = current_user(update, context)
            await context.bot.send_message(user.telegram_id, t(user.language, self.expired))

    def conversation(self, entry: BaseHandler[Any, Any, Any],
                     on_text: Callable[[Update, Context], Coroutine[Any, Any, int]]
                     ) -> ConversationHandler[Any]:
        with warnings.catch_warnings():
            # Keyed by the admin alone on purpose: the button may sit in a group chat.
            warnings.filterwarnings("ignore", message=".*per_", category=UserWarning)
            return ConversationHandler(
                entry_points=[entry],
                states={TYPING: [MessageHandler(PRIVATE_TEXT, on_text)],
                        ConversationHandler.TIMEOUT: [TypeHandler(Update, self.on_timeout)]},
                fallbacks=[CommandHandler("cancel", self.on_cancel,
                                          filters=filters.ChatType.PRIVATE)],
                name=self.key, per_chat=False, allow_reentry=True,
                conversation_timeout=self.ttl)
