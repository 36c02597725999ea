"""Secrets never reach the logs or the admin chat: masking at the formatter, on the final text.

Libraries log URLs that carry the token (PTB's debug line with the Bot API URL, httpx's request
lines), and exceptions carry it too (PTB's ``InvalidToken`` quotes the token it was given).
Masking the record's message was not enough: the traceback is appended by the formatter. So
every root handler's formatter is wrapped, and the text it returns, traceback included, is
masked: known secrets, anything shaped like a bot token, and ``password=...``-like values.
"""

from __future__ import annotations

import logging
import re

MASK = "<bot-token>"
HIDDEN = "<hidden>"
# A Telegram bot token: the bot's id, a colon, 35 characters of secret.
_TOKEN_SHAPE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
# "password=x", "token: x", '"secret": "x"': the key stays, the value goes.
_KEYED = re.compile(
    r"(?i)(\b(?:password|passwd|pwd|token|secret|api[_-]?key)[\"']?\s*[=:]\s*[\"']?)"
    r"([^\s\"',;&]+)")
_URL_CREDENTIALS = re.compile(r"(://[^\s/:@]+):[^\s/@]+@")
_SECRETS: set[str] = set()


def add_secrets(*secrets: str) -> None:
    """Remember ``secrets`` (and a token's secret part alone, should a library log it without
    the bot id) for every masking from now on."""
    for secret in secrets:
        _SECRETS.update(p for p in (secret, secret.partition(":")[2]) if len(p) >= 8)


def mask(text: str) -> str:
    """``text`` with every known secret and anything that looks like one replaced."""
    for secret in sorted(_SECRETS, key=len, reverse=True):  # the whole token before its part
        text = text.replace(secret, MASK)
    text = _TOKEN_SHAPE.sub(MASK, text)
    text = _URL_CREDENTIALS.sub(r"\1:" + HIDDEN + "@", text)
    return _KEYED.sub(lambda m: m.group(1) + HIDDEN, text)


def describe(error: BaseException | None, limit: int = 300) -> str:
    """A short, masked one-line description: the exception's type and capped message."""
    if error is None:
        return "unknown error"
    message = " ".join(str(error).split())
    text = mask(f"{type(error).__name__}: {message}" if message else type(error).__name__)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RedactingFormatter(logging.Formatter):
    """Formats with the handler's own formatter, then masks the whole text."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return mask(self.inner.format(record))


# These log every Bot API call's parameters and results at DEBUG: message texts, so the
# credentials message (its password) too, in any language. Kept at INFO even under -v.
PAYLOAD_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "httpx", "httpcore")


def install() -> None:
    """Wrap every root handler's formatter (once) and keep the loggers that print message
    payloads quiet; call right after ``logging.basicConfig``."""
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter))


def redact_everywhere(*secrets: str) -> None:
    """Mask ``secrets`` in every record that reaches a root handler, whatever its level."""
    add_secrets(*secrets)
    install()
