"""Start-up where Telegram is hard to reach: the proxy is used, an unreachable API is retried
with capped backoff and one plain line, and a stop signal ends the waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram.error import InvalidToken, NetworkError, TimedOut

from bot import runner
from bot.app import build_application
from bot.clock import FrozenClock
from bot.config import parse_config
from bot.services import Services

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("proxy", ["socks5://127.0.0.1:1080", "http://proxy.lab:3128"])
def test_the_proxy_reaches_both_bot_api_connections(proxy: str) -> None:
    config = parse_config({"telegram": {"proxy": proxy}})
    app = build_application(Services(config=config, clock=FrozenClock(NOW)), "1:TEST")
    get_updates, everything_else = app.bot._request  # type: ignore[attr-defined]
    assert get_updates._client_kwargs["proxy"] == proxy
    assert everything_else._client_kwargs["proxy"] == proxy


def test_without_a_proxy_the_bot_connects_directly() -> None:
    app = build_application(Services(config=parse_config({}), clock=FrozenClock(NOW)), "1:TEST")
    requests = app.bot._request  # type: ignore[attr-defined]
    assert all(r._client_kwargs["proxy"] is None for r in requests)


class FlakyApp:
    """Stands in for the Application: ``initialize`` fails ``failures`` times, then works."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures, self.calls = failures, 0
        self.error = error or NetworkError("httpx.ConnectError: All connection attempts failed")

    async def initialize(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FIRST_RETRY_S", 0.01)
    monkeypatch.setattr(runner, "MAX_RETRY_S", 0.04)


async def test_start_up_retries_until_telegram_answers(
        quick_retries: None, caplog: pytest.LogCaptureFixture) -> None:
    app = FlakyApp(failures=4, error=TimedOut())
    config = parse_config({"telegram": {"proxy": "socks5://me:pw@127.0.0.1:1080"}})
    assert await runner.connect(app, config, asyncio.Event())  # type: ignore[arg-type]
    assert app.calls == 5
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.runner"]
    assert len(lines) == 4 and all(r.exc_info is None for r in caplog.records)
    assert "cannot reach Telegram at https://api.telegram.org" in lines[0]
    assert "proxy: socks5://127.0.0.1:1080" in lines[0] and "pw" not in lines[0]
    assert "check that the proxy is running" in lines[0]
    assert [line.rsplit("retrying in ", 1)[1] for line in lines] == ["0 s"] * 4


async def test_the_wait_grows_and_is_capped(
        quick_retries: None, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    real_wait_for = asyncio.wait_for

    async def recording_wait_for(aw: Any, timeout: float) -> Any:
        waits.append(timeout)
        return await real_wait_for(aw, timeout)

    monkeypatch.setattr(runner.asyncio, "wait_for", recording_wait_for)
    app = FlakyApp(failures=4)
    await runner.connect(app, parse_config({}), asyncio.Event())  # type: ignore[arg-type]
    assert waits == [0.01, 0.02, 0.04, 0.04]


async def test_a_stop_signal_ends_the_waiting(quick_retries: None) -> None:
    stop = asyncio.Event()
    app = FlakyApp(failures=10**6)
    asyncio.get_running_loop().call_later(0.1, stop.set)
    assert not await runner.connect(app, parse_config({}), stop)  # type: ignore[arg-type]
    assert 1 < app.calls < 10**6


async def test_a_rejected_token_is_not_retried(quick_retries: None) -> None:
    app = FlakyApp(failures=1, error=InvalidToken("rejected"))
    with pytest.raises(InvalidToken):
        await runner.connect(app, parse_config({}), asyncio.Event())  # type: ignore[arg-type]
    assert app.calls == 1


def test_the_line_names_a_self_hosted_api_and_what_to_check() -> None:
    config = parse_config({"telegram": {"api_base_url": "http://127.0.0.1:9/bot"}})
    line = runner.unreachable(config, NetworkError("httpx.ConnectError: refused"))
    assert line.startswith("cannot reach Telegram at http://127.0.0.1:9/bot (proxy: none): ")
    assert "[telegram] proxy" in line and "\n" not in line
