"""Numbers people type are ASCII digits (full-width ones become ASCII); nothing else is a number,
and nothing a hostile student types crashes a check."""

from __future__ import annotations

import pytest

from billing.money import MoneyError, parse_money
from bot.config import parse_config
from bot.errors import UserError
from bot.textinput import NumberError, ascii_int, echo
from bot.usecases import request as uc
from handlers import request_views as views

CONFIG = parse_config({"rental": {"max_extra_ports": 3}})
# Superscript two, Arabic-Indic, Devanagari, Bengali, mathematical bold, circled digits: all
# pass str.isdigit() or \d, and int() either crashes on them or reads them as numbers.
FOREIGN_DIGITS = ["²", "12²", "٣", "١٢", "۳", "३", "১২", "𝟏𝟐", "①", "¹²", "1\u200b2"]


@pytest.mark.parametrize(("text", "value"), [
    ("7", 7), (" 42 ", 42), ("0042", 42), ("１２", 12), ("３", 3), ("1２", 12),
])
def test_ascii_and_full_width_digits_are_numbers(text: str, value: int) -> None:
    assert ascii_int(text, 0, 100) == value


@pytest.mark.parametrize("text", [
    *FOREIGN_DIGITS, "", " ", "-1", "+1", "1.0", "1e3", "0x10", "1_000", "½", "9" * 5000,
])
def test_anything_else_is_not_a_number(text: str) -> None:
    with pytest.raises(NumberError):
        ascii_int(text, 0, 10**30)


def test_numbers_outside_the_range_are_refused() -> None:
    with pytest.raises(NumberError):
        ascii_int("11", 1, 10)
    with pytest.raises(NumberError):
        ascii_int("0", 1, 10)


@pytest.mark.parametrize("text", FOREIGN_DIGITS)
def test_quantity_refuses_non_ascii_digits(text: str) -> None:
    with pytest.raises(UserError) as caught:
        uc.check_quantity(CONFIG, "hour", text)
    assert caught.value.key == "req_quantity_bad"


def test_quantity_takes_full_width_digits() -> None:
    assert uc.check_quantity(CONFIG, "hour", "１２") == 12


@pytest.mark.parametrize("text", FOREIGN_DIGITS)
def test_ports_refuse_non_ascii_digits(text: str) -> None:
    with pytest.raises(UserError) as caught:
        uc.check_ports(CONFIG, text)
    assert caught.value.key == "req_port_bad"


def test_ports_take_full_width_digits_and_chinese_separators() -> None:
    assert uc.check_ports(CONFIG, "６００６、8080；9000") == [6006, 8080, 9000]


@pytest.mark.parametrize("value", ["²", "٢", "１", "1 ", "01x", "99999999999999999999999", ""])
def test_gpu_button_takes_only_an_offered_ascii_count(
        value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uc, "gpu_choices", lambda config: [1, 2])
    draft = uc.Draft()
    with pytest.raises(UserError) as caught:
        views.apply_button(CONFIG, draft, "gpu", value)
    assert caught.value.key == "req_gpus_bad" and draft.gpus == 0
    assert views.apply_button(CONFIG, draft, "gpu", "2") == views.UNIT and draft.gpus == 2


@pytest.mark.parametrize("text", ["٣", "¥١٢", "3.٥", "²", "𝟑.60", "9" * 5000])
def test_money_refuses_non_ascii_digits(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_money(text)


def test_money_takes_full_width_digits_and_point() -> None:
    assert parse_money("￥１２．５０") == 1250


def test_money_error_quotes_at_most_40_characters() -> None:
    with pytest.raises(MoneyError) as caught:
        parse_money("x" * 5000)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("<b>", 10, "&lt;b&gt;"),
    ("a&b", 10, "a&amp;b"),
    ("abcdef", 4, "abc…"),
    ("ab<def", 3, "ab…"),     # cut before escaping: never half an entity
    ("&&&&&&", 3, "&amp;&amp;…"),
])
def test_echo_cuts_then_escapes(text: str, limit: int, expected: str) -> None:
    assert echo(text, limit) == expected
