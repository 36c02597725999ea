"""``[[plans]]``, ``[fees]`` and ``[billing]``: what rentals cost and how payment is collected."""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter

from billing.plans import UNITS, Plan, PlanError, PriceTable
from bot.config.reader import Reader

MAX_PLAN_GPUS = 64  # more GPUs than any one server holds
# A week and a month are what the lab calls them (a 5-day week, a 28-day month), within reason:
# the price optimiser's table grows with the longest unit, so 10**9 days would hang it.
WEEK_DAYS = (1, 14)
MONTH_DAYS = (1, 31)
MAX_PAYLOAD = 1000  # a QR code holds under 3000 bytes; a payment link is far shorter


@dataclass(frozen=True)
class BillingConfig:
    collect: str = "after"           # "before": pay before provisioning; "after": remind
    refund: str = "none"             # "none" | "pro_rata_days" on early release
    currency: str = "CNY"
    # What the payment QR encodes: a collection link or text with {amount} and {reference}.
    payment_payload: str = "gpurent payment {reference}: {amount}"
    payment_note: str = ""           # shown under the QR (e.g. "WeChat Pay to the lab account")
    # With collect = "after": remind a student who owes after this many days, then weekly
    # (0: never).
    unpaid_reminder_days: int = 3


@dataclass(frozen=True)
class Fees:
    image_change: int = 3000
    port_change: int = 3000


def parse_plans(root: Reader) -> PriceTable:
    plans: list[Plan] = []
    for r in root.items("plans"):
        unit = r.need("unit", str)
        if unit not in UNITS:
            raise r.fail("unit", f"{unit!r}: expected one of {', '.join(UNITS)}")
        if "gpus" not in r.data:
            raise r.fail("gpus", "is required")
        gpus = r.whole("gpus", 1, 1, MAX_PLAN_GPUS)
        plans.append(Plan(gpus=gpus, unit=unit, price=r.money("price", "0")))
    billing = root.sub("billing")
    week_days = billing.whole("week_days", 7, *WEEK_DAYS)
    month_days = billing.whole("month_days", 30, *MONTH_DAYS)
    try:
        if not plans:
            from billing.plans import default_lab_table

            return default_lab_table()
        return PriceTable(plans, week_days=week_days, month_days=month_days)
    except PlanError as exc:
        raise root.fail("plans", str(exc)) from None


def parse_fees(r: Reader) -> Fees:
    return Fees(image_change=r.money("image_change", "30.00"),
                port_change=r.money("port_change", "30.00"))


def parse_billing(r: Reader) -> BillingConfig:
    base = BillingConfig()
    collect = r.get("collect", str, base.collect)
    if collect not in ("before", "after"):
        raise r.fail("collect", f"{collect!r}: expected \"before\" or \"after\"")
    refund = r.get("refund", str, base.refund)
    if refund not in ("none", "pro_rata_days"):
        raise r.fail("refund", f"{refund!r}: expected \"none\" or \"pro_rata_days\"")
    remind = r.get("unpaid_reminder_days", int, base.unpaid_reminder_days)
    if not 0 <= remind <= 60:
        raise r.fail("unpaid_reminder_days", f"{remind}: expected 0 (off) to 60")
    return BillingConfig(collect=collect, refund=refund, payment_payload=_payload(r),
                         unpaid_reminder_days=remind,
                         currency=_text(r, "currency", base.currency, 8),
                         payment_note=_text(r, "payment_note", base.payment_note, 500))


def _payload(r: Reader) -> str:
    """Plain {amount} and {reference} only: a format spec like {amount:>999999999} would build
    a gigabyte string at the first payment."""
    payload = _text(r, "payment_payload", BillingConfig.payment_payload, MAX_PAYLOAD)
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in Formatter().parse(payload)
                  if name is not None]
    except ValueError:
        fields = [("?", "", None)]
    if any(name not in ("amount", "reference") or spec or conv for name, spec, conv in fields):
        raise r.fail("payment_payload",
                     "only the placeholders {amount} and {reference} are allowed")
    return payload


def _text(r: Reader, key: str, default: str, limit: int) -> str:
    value: str = r.get(key, str, default)
    if len(value) > limit:
        raise r.fail(key, f"longer than {limit} characters")
    return value
