"""Money as integer cents: what an admin may type, and how amounts read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import MAX_CENTS, MoneyError, format_money, format_per_hour, parse_money


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("2", 200),
        ("3.6", 360),
        ("3.60", 360),
        ("1400", 140000),
        ("¥3.60", 360),
        ("￥3.60", 360),
        ("  ¥ 3.60  ", 360),
        (" 0.05 ", 5),
        ("0", 0),
        ("10000000.00", MAX_CENTS),
    ],
)
def test_parse_money_accepts_plain_and_yuan_prefixed_amounts(text: str, cents: int) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "enter an amount"),
        ("   ", "enter an amount"),
        ("¥", "enter an amount"),
        ("abc", "not an amount: 'abc'"),
        ("3.6O", "not an amount"),
        ("12 yuan", "not an amount"),
        ("1,400", "not an amount"),
        ("3.", "not an amount"),
        (".5", "not an amount"),
        ("1e3", "not an amount"),
        ("-5", "cannot be negative"),
        ("¥-5.00", "cannot be negative"),
        ("3.605", "at most two decimals"),
        ("10000000.01", "too large"),
        ("99999999999", "too large"),
    ],
)
def test_parse_money_refuses_with_a_message_saying_why(text: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_money(text)


def test_money_error_is_a_value_error() -> None:
    assert issubclass(MoneyError, ValueError)


@pytest.mark.parametrize(
    ("cents", "text"),
    [(360, "¥3.60"), (140000, "¥1400.00"), (0, "¥0.00"), (5, "¥0.05"), (-500, "-¥5.00")],
)
def test_format_money_shows_yuan_with_two_decimals(cents: int, text: str) -> None:
    assert format_money(cents) == text


@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_parse_money_reads_back_what_format_money_writes(cents: int) -> None:
    assert parse_money(format_money(cents)) == cents


@pytest.mark.parametrize(
    ("cents_per_hour", "text"),
    [(200.0, "¥2.00/h"), (3500 / 24, "¥1.46/h"), (312.5, "¥3.13/h"), (75000 / 720, "¥1.04/h")],
)
def test_format_per_hour_rounds_half_up_to_two_decimals(cents_per_hour: float, text: str) -> None:
    assert format_per_hour(cents_per_hour) == text
