"""What the payment QR code says, the QR code itself as a PNG, and what early release gives back.

The payload comes from the config's ``billing.payment_payload``: a collection link or text with
``{amount}`` (plain yuan like ``3.60``, no currency sign, so payment apps can read it) and
``{reference}`` (the order, ``G000123``), so the lab can match the money to the order.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from billing.money import MAX_CENTS

REFUND_POLICIES = ("none", "pro_rata_days")
_DAY_US = 86_400_000_000


class PaymentError(ValueError):
    """A payload or refund that cannot be worked out; the message says why."""


def plain_amount(cents: int) -> str:
    """360 -> "3.60"."""
    whole, frac = divmod(cents, 100)
    return f"{whole}.{frac:02d}"


def payment_payload(template: str, amount_cents: int, reference: str) -> str:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise PaymentError("the amount must be a whole number of cents")
    if not 0 < amount_cents <= MAX_CENTS:
        raise PaymentError("the amount to pay must be positive and within the limit")
    try:
        return template.format(amount=plain_amount(amount_cents), reference=reference)
    except (AttributeError, KeyError, IndexError, ValueError):
        raise PaymentError(
            "billing.payment_payload may only use the placeholders {amount} and {reference}"
        ) from None


def qr_png(payload: str) -> bytes:
    """A PNG of ``payload`` as a QR code, medium error correction, large enough for phones."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def refund_due(policy: str, price: int, started: datetime, expires: datetime,
               now: datetime) -> int:
    """What to give back on early release: unused whole days x (price / total days), floored.

    ``policy`` is the config's ``billing.refund``: "none" gives 0. Never negative, never
    more than ``price``; a rental shorter than a day has no whole day to give back.
    """
    if policy not in REFUND_POLICIES:
        raise PaymentError(f"unknown refund policy {policy!r}; expected none or pro_rata_days")
    total_us = (expires - started) // timedelta(microseconds=1)
    if policy == "none" or price <= 0 or total_us <= 0:
        return 0
    unused_days = (expires - max(now, started)) // timedelta(days=1)
    if unused_days <= 0:
        return 0
    return min(price, price * unused_days * _DAY_US // total_us)
