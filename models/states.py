"""The rental state machine: every allowed transition is listed here and nowhere else.

A rental is born as the student's request and ends in one of the terminal states. Code never
assigns ``Rental.state`` directly; it calls :func:`models.queries.transition`, which checks the
table below and claims the row with a conditional UPDATE so two workers cannot both move it.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"            # submitted, waiting for an admin
    APPROVED = "approved"          # an admin said yes; placement not yet tried
    QUEUED = "queued"              # approved, waiting for free GPUs
    PROVISIONING = "provisioning"  # GPUs and ports held, container being made
    ACTIVE = "active"              # running, student has credentials
    EXPIRED = "expired"            # time is up: container stopped, data kept
    RELEASED = "released"          # container gone; only the workspace may remain
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.PENDING, State.CANCELLED}),
    State.PENDING: frozenset({State.APPROVED, State.REJECTED, State.CANCELLED}),
    State.APPROVED: frozenset({State.PROVISIONING, State.QUEUED, State.FAILED, State.CANCELLED}),
    State.QUEUED: frozenset({State.PROVISIONING, State.CANCELLED, State.FAILED}),
    State.PROVISIONING: frozenset({State.ACTIVE, State.QUEUED, State.FAILED}),
    State.ACTIVE: frozenset({State.EXPIRED, State.RELEASED, State.PROVISIONING}),
    State.EXPIRED: frozenset({State.ACTIVE, State.PROVISIONING, State.RELEASED}),
    State.RELEASED: frozenset(),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
    State.FAILED: frozenset(),
}

# States in which a rental holds (or is about to hold) GPUs.
HOLDS_GPUS = frozenset({State.PROVISIONING, State.ACTIVE})
# States that count against the per-student limit of live rentals.
LIVE = frozenset({State.APPROVED, State.QUEUED, State.PROVISIONING, State.ACTIVE})
OPEN_REQUEST = frozenset({State.DRAFT, State.PENDING})
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class TransitionError(Exception):
    """A transition the state machine does not allow, or a row that moved meanwhile."""


def check(current: State, target: State) -> None:
    if target not in TRANSITIONS[current]:
        raise TransitionError(f"rental cannot go from {current} to {target}")
