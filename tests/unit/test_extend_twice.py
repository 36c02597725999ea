"""Pressing the Extend confirm button twice extends and charges once: the button carries the
rental's end when the offer was made, and a press after the end moved is refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from billing import ledger
from bot import callbacks as cb
from bot.errors import UserError
from bot.services import Services
from bot.usecases import extend
from tests.unit.test_lifecycle import START, STUDENT, expires, rent, student, tick_at


def charges() -> list[int]:
    return [e.amount for e in ledger.statement(student()).entries if e.kind == ledger.CHARGE]


def confirm_values(svc: Services, rental_id: int) -> tuple[int, str, int, int]:
    _, buttons = extend.confirm(svc, rental_id, student(), "day", 1, START)
    values = cb.EXTEND_CONFIRM.parse(buttons[0][0].data)
    assert values is not None
    return values  # type: ignore[return-value]


async def test_a_second_press_of_the_same_confirm_button_extends_and_charges_nothing(
        svc: Services) -> None:
    rental = await rent(svc)
    end = expires(rental)
    rental_id, unit, quantity, stamp = confirm_values(svc, rental.id)
    assert stamp == int(end.timestamp())
    await extend.apply(svc, rental_id, student(), unit, quantity, START, stamp)
    with pytest.raises(UserError) as refused:
        await extend.apply(svc, rental_id, student(), unit, quantity, START, stamp)
    assert refused.value.key == "life_ext_done"
    assert expires(rental) == end + timedelta(days=1)
    assert charges() == [svc.config.prices.plan(2, "day").price]


async def test_two_presses_at_once_extend_once(svc: Services) -> None:
    rental = await rent(svc)
    end = expires(rental)
    rental_id, unit, quantity, stamp = confirm_values(svc, rental.id)
    await asyncio.gather(*(extend.apply_and_tell(svc, rental_id, student(), unit, quantity, stamp)
                           for _ in range(2)))
    assert expires(rental) == end + timedelta(days=1)
    assert len(charges()) == 1
    assert len(svc.notifier.to(STUDENT, "was done already")) == 1  # type: ignore[attr-defined]


async def test_a_double_tap_on_reviving_an_expired_rental_revives_and_charges_once(
        svc: Services) -> None:
    rental = await rent(svc)
    await tick_at(svc, expires(rental) + timedelta(minutes=1))
    rental_id, unit, quantity, stamp = confirm_values(svc, rental.id)
    now = expires(rental) + timedelta(hours=1)
    await extend.apply(svc, rental_id, student(), unit, quantity, now, stamp)
    with pytest.raises(UserError) as refused:
        await extend.apply(svc, rental_id, student(), unit, quantity, now, stamp)
    assert refused.value.key == "life_ext_done" and len(charges()) == 1


async def test_a_fresh_confirm_after_an_extension_works_again(svc: Services) -> None:
    rental = await rent(svc)
    first = confirm_values(svc, rental.id)
    await extend.apply(svc, rental.id, student(), "day", 1, START, first[3])
    second = confirm_values(svc, rental.id)
    assert second[3] != first[3]
    await extend.apply(svc, rental.id, student(), "day", 1, START, second[3])
    assert len(charges()) == 2
