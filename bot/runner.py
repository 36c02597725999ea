"""``gpurent run``: the database, the hosts, the bot, long polling until SIGINT or SIGTERM.

The Application is driven by hand rather than by ``run_polling`` so that start-up can wait
for Telegram: where it is hard to reach (a lab behind the Great Firewall, a proxy that is
down), the bot says so in one line and retries with capped backoff instead of exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application

from bot.app import build_application
from bot.clock import Clock, SystemClock
from bot.config import Config, ConfigError
from bot.config.telegram import proxy_shown
from bot.logsafe import describe
from bot.services import Services, services_of
from docker_ops.runtime import DockerRuntime
from models import lease
from models.db import close_database, open_database

logger = logging.getLogger(__name__)
TELEGRAM_API = "https://api.telegram.org"
FIRST_RETRY_S = 2.0
MAX_RETRY_S = 60.0
App = Application[Any, Any, Any, Any, Any, Any]


def make_services(config: Config, clock: Clock | None = None) -> Services:
    return Services(config=config, clock=clock or SystemClock(),
                    runtime=DockerRuntime(config.hosts))


def run_bot(config: Config, token: str) -> None:
    open_database(config.database_url)
    services = make_services(config)
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    try:
        _take_lease(config, holder, services.clock.now())
        services.lease_holder = holder
        app = build_application(services, token)
        logger.info("starting gpurent with %d host(s)", len(config.hosts))
        asyncio.run(serve(app, config))
    finally:
        services.runtime.close()
        if services.lease_holder:
            lease.give_back(holder)
        close_database()


def _take_lease(config: Config, holder: str, now: datetime) -> None:
    try:
        lease.take(holder, now, dead=_gone)
    except lease.LeaseHeldError as held:
        raise ConfigError(
            f"another gpurent ({held.holder.rsplit(':', 1)[0]}) is running on this database "
            f"(last seen {config.lab_time(held.since)}); stop it first — a crashed one "
            f"frees the database after {int(lease.TTL.total_seconds() // 60)} minutes") from None


def _gone(holder: str) -> bool:
    """A holder on this machine whose process no longer exists (it crashed, or was killed)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def serve(app: App, config: Config) -> None:
    """Start, poll until a stop signal, stop; a stop signal during start-up stops too."""
    stop = asyncio.Event()
    _on_stop_signals(stop)
    if not await connect(app, config, stop):
        return
    try:
        if app.post_init is not None:
            await app.post_init(app)
        if app.updater is not None:
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await app.start()
        await stop.wait()
    finally:
        await _shut_down(app)


async def connect(app: App, config: Config, stop: asyncio.Event) -> bool:
    """``initialize()`` (getMe) until Telegram answers; False when stopped first.

    A rejected token (``InvalidToken``) is not a ``NetworkError``: it propagates to the CLI."""
    delay = FIRST_RETRY_S
    while not stop.is_set():
        try:
            if await _unless_stopped(app.initialize(), stop):
                return True
        except NetworkError as exc:  # TimedOut is a NetworkError too
            logger.warning("%s; retrying in %.0f s", unreachable(config, exc), delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, MAX_RETRY_S)
    return False


def unreachable(config: Config, exc: BaseException) -> str:
    """The one line an admin reads when Telegram cannot be reached: where, how, what to check."""
    tg = config.telegram
    check = ("check that the proxy is running and reaches Telegram" if tg.proxy else
             "check this machine's network, or set [telegram] proxy "
             "(e.g. \"socks5://127.0.0.1:1080\") in the config")
    return (f"cannot reach Telegram at {tg.api_base_url or TELEGRAM_API} "
            f"(proxy: {proxy_shown(tg.proxy)}): {describe(exc, 160)}; {check}")


async def _unless_stopped(work: Any, stop: asyncio.Event) -> bool:
    """Await ``work`` unless ``stop`` is set first (then cancel it and return False)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, NetworkError):
            await task
        return False
    task.result()
    return True


def _on_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _shut_down(app: App) -> None:
    await services_of(app.bot_data).stop_watching()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
