"""The bot token is masked in every log line, whoever logs it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logsafe import HIDDEN, MASK, add_secrets, describe, install, mask, redact_everywhere

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
    logging.getLogger("telegram.ext.Updater").debug("Set Bot API URL: http://x/bot%s", TOKEN)
    logging.getLogger("some.http.client").info("POST http://x/bot%s/getUpdates", TOKEN)
    logging.getLogger("x").warning("secret part alone: AAE-secret-part")
    text = log.getvalue()
    assert "AAE-secret-part" not in text
    assert text.count(MASK) == 3


def test_other_messages_are_untouched(log: io.StringIO) -> None:
    redact_everywhere(TOKEN)
    logging.getLogger("y").info("rental R%d placed on %s", 7, "HPC1")
    assert log.getvalue().strip() == "rental R7 placed on HPC1"


def test_a_traceback_that_carries_the_token_is_masked(log: io.StringIO) -> None:
    redact_everywhere(TOKEN)
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logging.getLogger("telegram.ext.Application").exception("error while initializing")
    text = log.getvalue()
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text
    assert "AAE-secret-part" not in text and "123456:" not in text
    assert f"The token `{MASK}` was rejected" in text


def test_a_token_shaped_string_is_masked_even_when_unknown(log: io.StringIO) -> None:
    install()
    stranger = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    logging.getLogger("z").error("GET https://api.telegram.org/bot%s/getMe", stranger)
    assert stranger.split(":")[1] not in log.getvalue()


@pytest.mark.parametrize("text", [
    "connect failed: password=hunter22 host=db",
    "postgresql://gpurent:hunter22@db/gpurent unreachable",
    "{'password': 'hunter22', 'user': 'x'}",
    "jupyter token: hunter22",
])
def test_password_like_values_are_masked(text: str) -> None:
    masked = mask(text)
    assert "hunter22" not in masked and HIDDEN in masked


def test_describe_is_one_short_masked_line() -> None:
    add_secrets(TOKEN)
    error = ValueError(f"bad\nthing {TOKEN} " + "x" * 1000)
    line = describe(error, 100)
    assert line.startswith("ValueError: bad thing <bot-token> xxx")
    assert "\n" not in line and len(line) <= 100 and "secret" not in line


def test_the_loggers_that_print_message_texts_stay_quiet_at_debug(log: io.StringIO) -> None:
    redact_everywhere(TOKEN)
    logging.getLogger("telegram.ext.ExtBot").debug("Calling sendMessage with {'text': 'x'}")
    logging.getLogger("telegram.Bot").debug("Calling sendMessage with {'text': '密码：x'}")
    assert log.getvalue() == ""
