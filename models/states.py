"""The rental state machine: every allowed transition and every group of states, here and
nowhere else.

A rental is born as the student's request (``pending``) and ends in one of the terminal
states. Nothing assigns ``Rental.state`` directly: :func:`models.rentals.transition` checks
the table below, claims the row with a conditional UPDATE so two workers cannot both move it,
and writes the audit entry (``tests/unit/test_boundaries.py`` keeps it that way).
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"            # submitted, waiting for an admin
    APPROVED = "approved"          # an admin said yes; placement not yet tried (or unpaid)
    QUEUED = "queued"              # approved, waiting for free GPUs
    PROVISIONING = "provisioning"  # GPUs and ports held, container being made
    ACTIVE = "active"              # running, student has credentials
    EXPIRED = "expired"            # time is up: container stopped, data kept
    RELEASED = "released"          # container gone; only the workspace may remain
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    FAILED = "failed"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.APPROVED, State.REJECTED, State.CANCELLED}),  # withdrawn
    State.APPROVED: frozenset({State.PROVISIONING, State.QUEUED, State.CANCELLED}),
    State.QUEUED: frozenset({State.PROVISIONING, State.CANCELLED}),
    # QUEUED again: a transient fault (host down, registry away) or a crash mid-way.
    State.PROVISIONING: frozenset({State.ACTIVE, State.QUEUED, State.FAILED}),
    State.ACTIVE: frozenset({State.EXPIRED, State.RELEASED}),
    State.EXPIRED: frozenset({State.ACTIVE, State.RELEASED}),  # ACTIVE: revived by extension
    State.RELEASED: frozenset(),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
    State.FAILED: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# Approved, not yet placed: provisioning may pick it up.
WAITING = frozenset({State.APPROVED, State.QUEUED})
# Count against the per-student limit of live rentals.
LIVE = frozenset({*WAITING, State.PROVISIONING, State.ACTIVE})
# A request still waiting for the admin's decision (one per student at a time).
OPEN_REQUEST = frozenset({State.PENDING})
# GPUs are held (or being taken) for the rental.
HOLDS_GPUS = frozenset({State.PROVISIONING, State.ACTIVE})
# The student's workspace on the host is in use: never delete it.
ON_HOST = frozenset({State.PROVISIONING, State.ACTIVE, State.EXPIRED})
# The student may end these early (container removed, or request cancelled).
RELEASABLE = frozenset({*WAITING, State.ACTIVE, State.EXPIRED})
# The student may buy more time (an expired one is revived first).
EXTENDABLE = frozenset({State.ACTIVE, State.EXPIRED})
# The student may still withdraw these (nothing runs yet).
WITHDRAWABLE = frozenset({State.PENDING, *WAITING})
# What /my lists.
SHOWN_TO_OWNER = frozenset({*LIVE, State.PENDING, State.EXPIRED})


class TransitionError(Exception):
    """A transition the state machine does not allow, or a row that moved meanwhile."""


def check(current: State, target: State) -> None:
    if target not in TRANSITIONS[current]:
        raise TransitionError(f"rental cannot go from {current} to {target}")
