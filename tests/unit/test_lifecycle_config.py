"""The [lifecycle] table: the lab's defaults, and errors that name the key; the buttons the
lifecycle sends are the ones its handlers answer."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from telegram.ext import ApplicationBuilder, CallbackQueryHandler

from bot import callbacks as cb
from bot.config import ConfigError, parse_config
from handlers import lifecycle as handlers


def error_of(lifecycle: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config({"lifecycle": lifecycle}, "lab.toml")
    return str(caught.value)


def test_defaults_are_the_labs() -> None:
    cfg = parse_config({}).lifecycle
    assert cfg.reminders == (timedelta(hours=24), timedelta(hours=3), timedelta(minutes=30))
    assert cfg.container_retention == timedelta(days=7)
    assert cfg.container_warnings == (timedelta(days=3), timedelta(days=1))
    assert cfg.workspace_retention == timedelta(days=30)
    assert cfg.workspace_warnings == (timedelta(days=7), timedelta(days=1))
    assert cfg.archive_dir == "" and cfg.daily_summary and cfg.admin_digest
    assert (cfg.idle_util_percent, cfg.idle_memory_percent) == (5.0, 10.0)
    assert cfg.idle_window == timedelta(hours=2) and cfg.summary_time == time(9, 0)


def test_values_are_read_and_offsets_sorted() -> None:
    cfg = parse_config({"lifecycle": {
        "reminders": ["30m", "2d"], "workspace_retention_days": 0, "archive_dir": "/arch/",
        "idle_window": "90m", "summary_time": "8:30", "daily_summary": False}}).lifecycle
    assert cfg.reminders == (timedelta(days=2), timedelta(minutes=30))
    assert cfg.workspace_retention is None and cfg.archive_dir == "/arch"
    assert cfg.idle_window == timedelta(minutes=90) and cfg.summary_time == time(8, 30)
    assert not cfg.daily_summary


@pytest.mark.parametrize(("lifecycle", "message"), [
    ({"reminders": ["soon"]}, "lifecycle.reminders: 'soon' is not a duration"),
    ({"reminders": "3h"}, "lifecycle.reminders: expected a list"),
    ({"reminders": ["3h", "3h"]}, "lifecycle.reminders: the offsets must be distinct"),
    ({"container_retention_days": 0}, "lifecycle.container_retention_days: must be at least 1"),
    ({"workspace_retention_days": 5}, "lifecycle.workspace_retention_days: must be 0"),
    ({"archive_dir": "archive"}, "lifecycle.archive_dir: 'archive' must be an absolute path"),
    ({"idle_util_percent": 0}, "lifecycle.idle_util_percent: 0 is not a percentage"),
    ({"idle_window": "5m"}, "lifecycle.idle_window: must be at least two sample_every"),
    ({"summary_time": "24:00"}, "lifecycle.summary_time: '24:00' is not a time of day"),
    ({"admin_digest": "yes"}, "lifecycle.admin_digest: expected true or false"),
])
def test_errors_name_the_key(lifecycle: dict[str, object], message: str) -> None:
    assert message in error_of(lifecycle)
    assert error_of(lifecycle).startswith("lab.toml: lifecycle.")


def test_every_lifecycle_button_has_a_handler() -> None:
    app = ApplicationBuilder().token("1:TEST").build()
    handlers.register(app)
    patterns = [h.pattern for group in app.handlers.values() for h in group
                if isinstance(h, CallbackQueryHandler)]
    for data in (cb.EXTEND.build(12), cb.EXTEND_PICK.build(12, "day", 3),
                 cb.EXTEND_CONFIRM.build(12, "month", 12, 1764460800), cb.STILL_USING.build(12),
                 "idk:12"):  # the Still using button's old prefix, on notices already sent
        assert any(isinstance(p, re.Pattern) and p.match(data) for p in patterns), data
        assert len(data.encode()) <= 64
