"""What people type, made safe to use: numbers in ASCII digits, echoes escaped and short.

``str.isdigit()`` and ``int()`` accept far more than 0-9: ``"²".isdigit()`` is true but
``int("²")`` raises, and ``int("٣")`` (Arabic-Indic) is 3. We take ASCII digits only, after
turning full-width digits (what a Chinese input method in full-width mode types) into ASCII.
"""

from __future__ import annotations

import html
import re

ECHO_LIMIT = 200  # characters of someone's text we repeat back to them
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_ASCII_INT = re.compile(r"[0-9]{1,18}")


class NumberError(ValueError):
    """Text that is not a whole number (ASCII digits) inside the expected range."""


def ascii_digits(text: str) -> str:
    """Full-width digits to ASCII; everything else is left as typed."""
    return text.translate(_FULL_WIDTH)


def ascii_int(text: str, lo: int, hi: int) -> int:
    """The whole number ``text`` spells in 0-9 (full-width allowed), within lo..hi."""
    digits = ascii_digits(text.strip())
    if not _ASCII_INT.fullmatch(digits):
        raise NumberError(f"not a whole number: {text[:20]!r}")
    value = int(digits)
    if not lo <= value <= hi:
        raise NumberError(f"{value} is outside {lo}..{hi}")
    return value


def echo(text: object, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, then escaped for Telegram HTML.

    Cutting first means an entity such as ``&lt;`` is never split in half; what Telegram shows
    is at most ``limit`` characters.
    """
    raw = str(text)
    if len(raw) > limit:
        raw = raw[:max(limit - 1, 0)] + "…"
    return html.escape(raw, quote=False)
