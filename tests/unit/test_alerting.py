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
