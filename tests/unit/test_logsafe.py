"""The bot token is masked in every log line, whoever logs it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logsafe import MASK, redact_everywhere

TOKEN = "123456:AAE-secret-part"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old)


def test_token_in_a_url_is_masked(log: io.StringIO) -> None:
    redact_everywhere(TOKEN)
    logging.getLogger("telegram.ext.ExtBot").debug("Set Bot API URL: http://x/bot%s", TOKEN)
    logging.getLogger("some.http.client").info("POST http://x/bot%s/getUpdates", TOKEN)
    logging.getLogger("x").warning("secret part alone: AAE-secret-part")
    text = log.getvalue()
    assert "AAE-secret-part" not in text
    assert text.count(MASK) == 3


def test_other_messages_are_untouched(log: io.StringIO) -> None:
    redact_everywhere(TOKEN)
    logging.getLogger("y").info("rental R%d placed on %s", 7, "HPC1")
    assert log.getvalue().strip() == "rental R7 placed on HPC1"
