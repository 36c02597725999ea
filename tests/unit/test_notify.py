"""The notifier where Telegram drops: retries, an outbox for plain messages, never a kept
secret, deletions retried."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.clock import FrozenClock
from bot.notify import TelegramNotifier
from bot.ports import Button, DeliveryDelayedError
from models import outbox

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@dataclass
class Sent:
    message_id: int


@dataclass
class FlakyBot:
    """Fails the next ``down`` calls with ``error``, then delivers."""

    down: int = 0
    error: Exception = field(default_factory=lambda: TimedOut("timed out"))
    delivered: list[tuple[int, str, Any]] = field(default_factory=list)

    async def send_message(self, chat_id: int, text: str, **kw: Any) -> Sent:
        if self.down:
            self.down -= 1
            raise self.error
        self.delivered.append((chat_id, text, kw.get("reply_markup")))
        return Sent(len(self.delivered))

    async def delete_message(self, chat_id: int, message_id: int) -> bool:
        if self.down:
            self.down -= 1
            raise self.error
        return True


def notifier(bot: FlakyBot) -> TelegramNotifier:
    return TelegramNotifier(bot, FrozenClock(NOW), backoff=(0.0, 0.0))  # type: ignore[arg-type]


async def test_a_short_outage_is_ridden_out_by_retries(database: str) -> None:
    bot = FlakyBot(down=2)
    assert await notifier(bot).send(1, "hello") == 1
    assert [text for _, text, _ in bot.delivered] == ["hello"]
    assert outbox.count() == 0


async def test_a_long_outage_keeps_the_message_and_flush_sends_it_once(database: str) -> None:
    bot = FlakyBot(down=3, error=NetworkError("proxy refused"))
    n = notifier(bot)
    assert await n.send(1, "approved", [[Button("Pay", "pay:full:1")]]) is None
    assert outbox.count() == 1 and bot.delivered == []
    bot.down = 1
    assert await n.flush() == 0  # still away: kept
    assert await n.flush() == 1
    assert await n.flush() == 0
    (chat, text, keyboard), = bot.delivered
    assert (chat, text) == (1, "approved")
    assert keyboard.inline_keyboard[0][0].callback_data == "pay:full:1"


async def test_a_secret_is_never_kept(database: str) -> None:
    bot = FlakyBot(down=3)
    with pytest.raises(DeliveryDelayedError):
        await notifier(bot).send(1, "Password: hunter2", secret=True)
    assert outbox.count() == 0


@pytest.mark.parametrize("error", [Forbidden("blocked"), BadRequest("can't parse entities")])
async def test_a_refusal_is_not_retried_or_kept(database: str, error: Exception) -> None:
    bot = FlakyBot(down=1, error=error)
    assert await notifier(bot).send(1, "x") is None
    assert bot.down == 0 and outbox.count() == 0
    assert bot.delivered == []


async def test_a_deletion_while_telegram_is_away_says_so(database: str) -> None:
    with pytest.raises(DeliveryDelayedError):
        await notifier(FlakyBot(down=1)).delete(1, 5)
    assert await notifier(FlakyBot()).delete(1, 5)
