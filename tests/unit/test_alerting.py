"""Error alerts to admins: masked, short, once per kind per window, a few per window at most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerting import AlertGate, alert_text, signature
from bot.logsafe import add_secrets

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOKEN = "424242:AAF-alerting-secret-part-xyz"


def raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:
        return caught


def fail_here() -> Exception:
    return raised(KeyError("rejr:1:zzz"))


def fail_there() -> Exception:
    return raised(ValueError("other"))


def test_the_same_error_is_sent_once_per_window() -> None:
    gate = AlertGate(window=timedelta(minutes=10))
    assert gate.allow(fail_here(), T0)
    assert not gate.allow(fail_here(), T0 + timedelta(minutes=9))
    assert gate.allow(fail_here(), T0 + timedelta(minutes=10))
    assert gate.suppressed == 1


def test_different_errors_each_get_an_alert() -> None:
    gate = AlertGate()
    assert gate.allow(fail_here(), T0) and gate.allow(fail_there(), T0)
    assert signature(fail_here()) != signature(fail_there())


def test_a_flood_of_distinct_errors_is_capped_per_window() -> None:
    gate = AlertGate(window=timedelta(minutes=10), burst=3)
    errors = [raised(type(f"Fault{i}Error", (Exception,), {})()) for i in range(5)]
    sent = [gate.allow(e, T0 + timedelta(seconds=i)) for i, e in enumerate(errors)]
    assert sent == [True, True, True, False, False]
    assert gate.allow(raised(OSError("later")), T0 + timedelta(minutes=11))


def test_the_alert_text_is_short_and_masked() -> None:
    add_secrets(TOKEN)
    error = RuntimeError(f"bot{TOKEN}/sendMessage failed; password=hunter22 " + "y" * 2000)
    text = alert_text(error)
    assert text.startswith("RuntimeError: bot<bot-token>/sendMessage failed")
    assert "alerting-secret" not in text and "hunter22" not in text and len(text) <= 300


class RecordingBot:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, **_: object) -> None:
        self.sent.append((chat_id, text))


async def test_the_error_handler_alerts_once_with_a_masked_description() -> None:
    from types import SimpleNamespace

    from bot.app import on_error
    from bot.clock import FrozenClock
    from bot.config import parse_config
    from bot.services import SERVICES_KEY, Services

    add_secrets(TOKEN)
    config = parse_config({"language": "en", "telegram": {"admin_chat": -100123}})
    bot = RecordingBot()
    bot_data = {SERVICES_KEY: Services(config=config, clock=FrozenClock(T0))}
    error = raised(RuntimeError(f"POST /bot{TOKEN}/sendMessage: password=hunter22"))
    for _ in range(3):
        await on_error(None, SimpleNamespace(  # type: ignore[arg-type]
            error=error, bot=bot, bot_data=bot_data))
    assert len(bot.sent) == 1
    chat, text = bot.sent[0]
    assert chat == -100123 and "RuntimeError: POST /bot&lt;bot-token&gt;/sendMessage" in text
    assert "alerting-secret" not in text and "hunter22" not in text
