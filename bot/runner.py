"""``gpurent run``: the database, the hosts, the bot, long polling until stopped."""

from __future__ import annotations

import logging

from telegram import Update

from bot.app import build_application
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.services import Services
from docker_ops.runtime import DockerRuntime
from models.db import close_database, open_database

logger = logging.getLogger(__name__)


def make_services(config: Config, clock: Clock | None = None) -> Services:
    return Services(config=config, clock=clock or SystemClock(),
                    runtime=DockerRuntime(config.hosts))


def run_bot(config: Config, token: str) -> None:
    open_database(config.database_url)
    services = make_services(config)
    app = build_application(services, token)
    logger.info("starting gpurent with %d host(s)", len(config.hosts))
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    finally:
        services.runtime.close()
        close_database()
