"""A local Telegram Bot API for tests: the real bot talks to it over HTTP on 127.0.0.1.

It runs in the test's own event loop, so the bot (python-telegram-bot with real long polling),
the emulator and the test's simulated users share one loop and no thread.

Emulated: getMe, getUpdates (offset, limit, timeout long polling, allowed_updates),
deleteWebhook, getWebhookInfo, sendMessage, sendPhoto, sendDocument (multipart uploads kept as
bytes), editMessageText / Caption / ReplyMarkup, deleteMessage, answerCallbackQuery,
sendChatAction, setMyCommands / getMyCommands / deleteMyCommands (kept per scope and language),
getFile and downloads under /file/bot<token>/<path>, getChat, getChatMember,
getChatAdministrators, close, logOut, setMyDescription and the like (stored in ``settings``).
Parameters may come as a query string, JSON, a form or multipart, as PTB sends them.

Refused as Telegram refuses (HTTP status and description alike, recorded in ``errors``):
a wrong token (401); unknown methods (404); text over 4096 characters or empty after entity
parsing, captions over 1024; HTML that uses tags outside Telegram's set, leaves tags unbalanced
or uses named entities other than &lt; &gt; &amp; &quot; ("can't parse entities", the last one
stricter than Telegram); callback_data over 64 bytes; inline buttons without an action or with a
localhost URL; edits of missing messages, edits that change nothing ("message is not
modified"); deleting unknown messages; unknown chats; writing first to a user who never wrote to
the bot (403) or who blocked it (403); answering an unknown or already answered callback query;
setWebhook (only polling is served). Not enforced: rate limits (see ``max_per_second``),
Markdown parse modes (passed through unchecked), inline mode, payments, media groups.

``outage = True`` makes every API call answer 502 Bad Gateway until it is set back: the network
to Telegram failing, for tests of what the bot keeps and delivers later.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web

from .methods_messages import MESSAGE_METHODS, Handler
from .methods_misc import MISC_METHODS
from .models import ApiError, RefusedCall
from .params import Params, read_params
from .state import EmulatorState

logger = logging.getLogger(__name__)

METHODS: dict[str, Handler] = {**MESSAGE_METHODS, **MISC_METHODS}
UPLOAD_LIMIT = 64 * 1024 * 1024


class BotApiEmulator(EmulatorState):
    """``async with BotApiEmulator() as emu:`` then build the bot with ``emu.base_url``."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        username: str = "gpurent_test_bot",
        first_name: str = "GPU Rent",
    ) -> None:
        super().__init__(token, username, first_name)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.outage = False  # True: every API call answers 502, as a dead proxy would
        self.outage_calls = 0

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.closing = False

    async def stop(self) -> None:
        self.closing = True
        self.notifier.notify()  # lets a waiting getUpdates answer before the server closes
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.outage:
            # The proxy to Telegram is down: what a lab behind a flaky proxy sees. Not a
            # refusal by Telegram, so not recorded in ``errors``.
            self.outage_calls += 1
            return web.Response(status=502, text="Bad Gateway")
        if request.match_info["token"] != self.token:
            return self._refuse(method, ApiError(401, "Unauthorized"), {})
        try:
            params = await read_params(request)
        except ApiError as err:
            return self._refuse(method, err, {})
        return await self._dispatch(method, params)

    async def _dispatch(self, method: str, params: Params) -> web.Response:
        self.calls.append((method, params.loggable()))
        if method.lower() != "getupdates":
            self.last_call = time.monotonic()
        handler = METHODS.get(method.lower())
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(self, params)
        except ApiError as err:
            return self._refuse(method, err, params.loggable())
        return web.json_response({"ok": True, "result": result})

    def _refuse(self, method: str, err: ApiError, params: dict[str, Any]) -> web.Response:
        logger.warning("emulated Telegram refused %s: %s", method, err.description)
        self.errors.append(RefusedCall(method, err.code, err.description, params))
        self.notifier.notify()
        body = {"ok": False, "error_code": err.code, "description": err.description}
        return web.json_response(body, status=err.code)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type="application/octet-stream")
