"""The rental state machine: allowed moves only, and claims that only one worker wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import queries, rentals
from models.states import TERMINAL, TRANSITIONS, State, TransitionError, check
from models.tables import Rental

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def make_rental(state: State = State.PENDING) -> Rental:
    user = queries.upsert_user(1, "Li", "", "li", "zh", False, NOW)
    return Rental.create(user=user, state=state.value, image_key="pytorch", image_ref="x",
                         gpus=1, unit="hour", quantity=1, price=200, purpose="p",
                         created_at=queries.to_db(NOW))


def test_terminal_states_go_nowhere() -> None:
    assert {State.RELEASED, State.REJECTED, State.CANCELLED, State.FAILED} == TERMINAL


@pytest.mark.parametrize(("src", "dst"), [
    (State.PENDING, State.ACTIVE), (State.REJECTED, State.APPROVED),
    (State.EXPIRED, State.PENDING), (State.FAILED, State.QUEUED),
])
def test_forbidden_moves_raise(src: State, dst: State) -> None:
    with pytest.raises(TransitionError):
        check(src, dst)


def test_every_state_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(State)


def test_transition_claims_once(database: str) -> None:
    rental = make_rental()
    assert rentals.transition(rental.id, State.APPROVED, NOW, expect=[State.PENDING],
                              decided_at=NOW)
    assert not rentals.transition(rental.id, State.REJECTED, NOW, expect=[State.PENDING])
    again = Rental.get_by_id(rental.id)
    assert again.state == "approved"
    assert queries.from_db(again.decided_at) == NOW


def test_transition_refuses_a_move_the_machine_forbids(database: str) -> None:
    rental = make_rental(State.REJECTED)
    with pytest.raises(TransitionError):
        rentals.transition(rental.id, State.ACTIVE, NOW)


def test_naive_datetimes_are_refused(database: str) -> None:
    with pytest.raises(ValueError, match="naive"):
        queries.to_db(datetime(2026, 1, 1))
