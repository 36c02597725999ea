"""Money as integer cents (fen): parsing what an admin types, formatting what users read.

Integers keep totals exact; floats appear only for per-hour equivalents, which are shown,
never summed.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

CURRENCY = "¥"
# Both the half-width and the full-width yuan sign are common in Chinese input methods.
_CURRENCY_SIGNS = ("¥", "￥")
MAX_CENTS = 1_000_000_000  # ¥10,000,000.00: anything above is a typo, not a price
# ASCII digits only: \d would take Arabic-Indic or other scripts' digits as a number. Full-width
# digits and point (a Chinese input method in full-width mode) are turned into ASCII first.
_AMOUNT = re.compile(r"(?P<whole>[0-9]{1,30})(?:\.(?P<frac>[0-9]+))?")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
_EXAMPLE = "e.g. 3.60 or ¥1400"


class MoneyError(ValueError):
    """An amount that cannot be used; the message is safe to show to the person who typed it."""


def parse_money(text: str) -> int:
    """Parse "2", "3.6", "3.60", "¥3.60" (spaces around allowed) into cents."""
    shown = text.strip()[:40]
    raw = text.strip().translate(_FULL_WIDTH)
    for sign in _CURRENCY_SIGNS:
        raw = raw.removeprefix(sign)
    raw = raw.strip()
    if not raw:
        raise MoneyError(f"enter an amount, {_EXAMPLE}")
    if raw.startswith("-"):
        raise MoneyError(f"the amount cannot be negative: {shown!r}")
    match = _AMOUNT.fullmatch(raw)
    if match is None:
        raise MoneyError(f"not an amount: {shown!r}; {_EXAMPLE}")
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise MoneyError(f"at most two decimals: {shown!r}")
    cents = int(match["whole"]) * 100 + int(frac.ljust(2, "0"))
    if cents > MAX_CENTS:
        limit = format_money(MAX_CENTS)
        raise MoneyError(f"amount too large: {shown!r}; the limit is {limit}")
    return cents


def format_money(cents: int) -> str:
    """12345 -> "¥123.45"; -500 -> "-¥5.00"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{CURRENCY}{whole}.{frac:02d}"


def format_per_hour(cents_per_hour: float) -> str:
    """145.83 -> "¥1.46/h", rounding half up (3.125 -> "¥3.13/h", as people expect)."""
    amount = Decimal(repr(cents_per_hour)) / 100
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{CURRENCY}{abs(rounded):.2f}/h"
