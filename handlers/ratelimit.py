"""The flood guard: runs before every other handler (group -1) and drops a flooding user's
updates, so one account cannot keep the bot (and the admins it alerts) busy. Admins are exempt.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.i18n import t
from bot.ratelimit import RateLimiter
from bot.services import services_of
from handlers.common import Context, current_user

logger = logging.getLogger(__name__)

GROUP = -1
LIMITER_KEY = "gpurent.ratelimit"  # bot_data: the RateLimiter (tests put one on a fake clock)


def limiter(context: Context) -> RateLimiter:
    found = context.bot_data.get(LIMITER_KEY)
    if not isinstance(found, RateLimiter):
        found = context.bot_data[LIMITER_KEY] = RateLimiter()
    return found


async def throttle(update: Update, context: Context) -> None:
    """Let the update through, or tell the user once to slow down and drop it."""
    person = update.effective_user
    if person is None or services_of(context.bot_data).is_admin(person.id):
        return
    verdict = limiter(context).check(person.id)
    if verdict == "ok":
        return
    if verdict == "warn":
        logger.warning("user %d is flooding; dropping updates until the bucket refills",
                       person.id)
        await _slow_down(update, context)
    elif update.callback_query is not None:
        await update.callback_query.answer()  # stop the spinner, say nothing more
    raise ApplicationHandlerStop


async def _slow_down(update: Update, context: Context) -> None:
    text = t(current_user(update, context).language, "rate_limited")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(TypeHandler(Update, throttle), group=GROUP)
