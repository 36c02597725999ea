"""Plans, prices, quotes and money as integer cents: pure code, no telegram, docker or peewee."""

from __future__ import annotations

from billing.money import MoneyError, format_money, format_per_hour, parse_money
from billing.plans import UNITS, Plan, PlanError, PriceTable, default_lab_table
from billing.quote import Combination, Quote, QuoteError, cheapest, hint, quote

__all__ = [
    "UNITS",
    "Combination",
    "MoneyError",
    "Plan",
    "PlanError",
    "PriceTable",
    "Quote",
    "QuoteError",
    "cheapest",
    "default_lab_table",
    "format_money",
    "format_per_hour",
    "hint",
    "parse_money",
    "quote",
]
