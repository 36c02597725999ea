"""A bare python-telegram-bot echo bot: the baseline the benchmarks hold gpurent against. It
imports nothing of gpurent, so run as a process it also gives the bare start time and memory:

    python -m benchmarks.echo_bot BASE_URL   (token from GPURENT_BENCH_TOKEN)
"""

from __future__ import annotations

import os
import sys
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

App = Application[Any, Any, Any, Any, Any, Any]
GO = InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data="go")]])


async def echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo {update.effective_message.text}",
                                              reply_markup=GO)


async def echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await context.bot.send_message(query.message.chat.id, "pressed", reply_markup=GO)


def build(token: str, base_url: str, limiter: bool) -> App:
    builder = ApplicationBuilder().token(token).base_url(base_url)
    if limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=2))  # type: ignore[arg-type]
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo_text))
    app.add_handler(CallbackQueryHandler(echo_press))
    return app


if __name__ == "__main__":
    build(os.environ["GPURENT_BENCH_TOKEN"], sys.argv[1], limiter=False).run_polling(
        poll_interval=0, timeout=1)
