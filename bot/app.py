"""Wiring: the one place that builds the Application and puts the services in bot_data."""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import callbacks, jobs
from bot.alerting import AlertGate, alert_text
from bot.i18n import language_for, t
from bot.menus import ADMIN_COMMANDS, set_all_commands
from bot.notify import TelegramNotifier
from bot.services import SERVICES_KEY, Services, services_of
from bot.updates import PerUserUpdateProcessor
from bot.usecases import admins, images, watch
from bot.usecases.hosts import sync_hosts
from bot.usecases.housekeeping import recover_interrupted, resume_approved
from bot.usecases.reconcile import reconcile
from handlers import admin, approval, billing, lifecycle, ratelimit, rentals, request, start
from handlers import changes as change_handlers
from handlers import console as console_handlers
from handlers import images as image_handlers
from handlers import keys as key_handlers
from handlers import selfservice as selfservice_handlers
from handlers.common import CustomContext

logger = logging.getLogger(__name__)

CANCEL_GROUP = 3
ALERT_GATE_KEY = "alert_gate"


def build_application(services: Services, token: str) -> Application[Any, Any, Any, Any, Any, Any]:
    tg = services.config.telegram
    builder = ApplicationBuilder().token(token).post_init(post_init)
    builder = builder.context_types(ContextTypes(context=CustomContext))  # context.services
    if tg.api_base_url:
        base = tg.api_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(tg.api_file_url or base + "/file/bot")
    if tg.proxy:  # where Telegram is only reachable through one (e.g. mainland China)
        builder = builder.proxy(tg.proxy).get_updates_proxy(tg.proxy)
    builder = builder.rate_limiter(AIORateLimiter(max_retries=2))  # type: ignore[arg-type]
    builder = builder.concurrent_updates(PerUserUpdateProcessor())  # users at once, each in order
    app = builder.build()
    services.notifier = TelegramNotifier(app.bot, services.clock)
    app.bot_data[SERVICES_KEY] = services
    add_handlers(app)
    return app


def add_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    ratelimit.register(app)  # group -1: a flooding user's updates stop here
    app.add_handler(CommandHandler("start", start.start))
    app.add_handler(CommandHandler("help", start.help_command))
    app.add_handler(request.conversation())
    # Same group, after the dialogue: its buttons pressed when no dialogue is open.
    for stale in request.stale_buttons():
        app.add_handler(stale)
    approval.register(app)
    rentals.register(app)
    admin.register(app)
    console_handlers.register(app)
    image_handlers.register(app)
    lifecycle.register(app)
    billing.register(app)
    selfservice_handlers.register(app)
    change_handlers.register(app)
    key_handlers.register(app)
    # After every dialogue's group (0-2): each answers its own /cancel and stops there.
    app.add_handler(CommandHandler("cancel", start.nothing_to_cancel), group=CANCEL_GROUP)
    known = filters.Regex(r"^/(" + "|".join(ADMIN_COMMANDS) + r")(@\w+)?(\s|$)")
    # Last group: answers only commands that no handler above knows.
    app.add_handler(MessageHandler(filters.COMMAND & ~known, start.unknown_command), group=9)
    app.add_handler(CallbackQueryHandler(start.unknown_button, pattern=callbacks.UNDECLARED),
                    group=9)
    app.add_error_handler(on_error)


async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Start-up work that needs the event loop: hosts, crash recovery, Docker reconciled
    with the database, the engines' event streams, menus, the tick."""
    services = services_of(app.bot_data)
    await sync_hosts(services)
    images.seed(services, services.clock.now())  # the catalogue /request offers
    await recover_interrupted(services)
    resume_approved(services)
    now = services.clock.now()
    if services.reconcile_due(now):
        await reconcile(services, now)
    watch.start(services)
    await set_all_commands(app.bot, services)
    if app.job_queue is not None and services.tick_seconds > 0:
        app.job_queue.run_repeating(jobs.tick, interval=services.tick_seconds, first=1,
                                    name="tick")
    logger.info("bot started as @%s", app.bot.username)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure, tell the user plainly, alert the admins; never show a stack trace."""
    logger.error("error while handling an update", exc_info=context.error)
    services = services_of(context.bot_data)
    lang = services.config.language
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        said = language_for(user.language_code if user else None, lang)
        try:
            await context.bot.send_message(update.effective_chat.id, t(said, "error_generic"))
        except TelegramError:
            logger.warning("could not tell the user about the error")
    await _alert_admins(context, services)


async def _alert_admins(context: ContextTypes.DEFAULT_TYPE, services: Services) -> None:
    """A short, masked description, gated: one crashing input repeated is one alert."""
    gate = context.bot_data.setdefault(ALERT_GATE_KEY, AlertGate())
    if not gate.allow(context.error, services.clock.now()):
        logger.info("error alert suppressed (%d so far)", gate.suppressed)
        return
    error = html.escape(alert_text(context.error))
    for chat_id, admin_lang in admins.targets(services):
        try:
            await context.bot.send_message(chat_id, t(admin_lang, "admin_alert", error=error),
                                           parse_mode=ParseMode.HTML)
        except TelegramError:
            logger.warning("could not alert admin chat %s", chat_id)
