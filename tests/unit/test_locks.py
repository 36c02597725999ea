"""A rental's lock: one holder at a time; a lock left by a crash is taken over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UserError
from bot.usecases import container
from models import locks, queries
from models.tables import Rental

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def make_rental() -> Rental:
    user = queries.upsert_user(3, "Li", "", "li", "zh", False, NOW)
    return Rental.create(user=user, state="active", image_key="pytorch", image_ref="x",
                         gpus=1, unit="hour", quantity=1, price=200, purpose="p",
                         created_at=queries.to_db(NOW))


def test_one_holder_at_a_time(database: str) -> None:
    rental = make_rental()
    assert locks.take(rental.id, NOW)
    assert not locks.take(rental.id, NOW + timedelta(minutes=5))
    assert locks.held(rental.id)
    locks.give_back(rental.id)
    assert not locks.held(rental.id)
    assert locks.take(rental.id, NOW)


def test_a_lock_left_by_a_crash_is_taken_over(database: str) -> None:
    rental = make_rental()
    assert locks.take(rental.id, NOW)
    assert not locks.take(rental.id, NOW + locks.STALE - timedelta(seconds=1))
    assert locks.take(rental.id, NOW + locks.STALE + timedelta(seconds=1))


def test_hold_refuses_a_busy_rental_and_lets_go_after_an_error(database: str) -> None:
    rental = make_rental()
    with container.hold(rental, NOW), pytest.raises(UserError) as busy, \
            container.hold(rental, NOW):
        pass
    assert busy.value.key == "life_busy"
    with pytest.raises(RuntimeError), container.hold(rental, NOW):
        raise RuntimeError("boom")
    assert not locks.held(rental.id)
