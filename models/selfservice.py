"""What the student's own actions on a running rental ask and write: its container replaced
(restart from the image, another image, other ports), its SSH keys, its paid changes.

Writes to a rental here never change its state (that is :func:`models.rentals.transition`'s):
they apply only while the rental is still running, and leave an audit entry in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from peewee import IntegrityError

from models.db import db
from models.states import State
from models.tables import (
    AuditEvent,
    ChangeRequest,
    ChatMessage,
    LedgerEntry,
    PortAllocation,
    Rental,
    SshKey,
    User,
)
from models.times import to_db


def update_running(rental_id: int, now: datetime, *, audit: str, actor: User | None = None,
                   detail: str = "", **fields: object) -> bool:
    """Write ``fields`` on a rental that is still running, with an audit entry; False when it
    is not running any more."""
    values = {getattr(Rental, name): to_db(v) if isinstance(v, datetime) else v
              for name, v in fields.items()}
    with db.atomic():
        changed = (Rental.update(values).where((Rental.id == rental_id)
                                               & (Rental.state == State.ACTIVE.value))
                   .execute()) if values else 1
        if changed != 1:
            return False
        AuditEvent.create(at=to_db(now), kind=audit, rental=rental_id, actor=actor,
                          detail=detail[:500])
    return True


def audit(rental: Rental, kind: str, now: datetime, actor: User | None,
          detail: str = "") -> None:
    AuditEvent.create(at=to_db(now), kind=kind, rental=rental, actor=actor, detail=detail[:500])


# --- ports ---------------------------------------------------------------------------------

class PortTakenError(Exception):
    """A host port another rental holds (a race lost)."""


def hold_ports(rental: Rental, ports: dict[int, int], now: datetime) -> None:
    """Hold more host ports for a running rental (container port -> host port)."""
    try:
        with db.atomic():
            for inner, outer in ports.items():
                PortAllocation.create(rental=rental, host=rental.host, port=outer,
                                      container_port=inner, allocated_at=to_db(now))
    except IntegrityError as exc:
        raise PortTakenError(str(exc)) from None


def let_go_ports(rental: Rental, inner_ports: Iterable[int], now: datetime) -> int:
    """Stop holding the host ports of these container ports."""
    return int(PortAllocation.update(released_at=to_db(now)).where(
        (PortAllocation.rental == rental) & PortAllocation.released_at.is_null()
        & PortAllocation.container_port.in_(list(inner_ports))).execute())


# --- SSH keys ------------------------------------------------------------------------------

def keys_of(user: User) -> list[SshKey]:
    return list(SshKey.select().where(SshKey.user == user).order_by(SshKey.id))


def key_count(user: User) -> int:
    return int(SshKey.select().where(SshKey.user == user).count())


def add_key(user: User, key: str, fingerprint: str, kind: str, bits: int,
            now: datetime) -> SshKey | None:
    """Remember a key; None when the student has it already."""
    try:
        with db.atomic():
            return SshKey.create(user=user, key=key, fingerprint=fingerprint, kind=kind,
                                 bits=bits, created_at=to_db(now))
    except IntegrityError:
        return None


def key_of(user: User, key_id: int) -> SshKey | None:
    return SshKey.get_or_none((SshKey.id == key_id) & (SshKey.user == user))


def forget_key(key: SshKey) -> bool:
    return bool(SshKey.delete().where(SshKey.id == key.id).execute())


def running_of(user: User) -> list[Rental]:
    return list(Rental.select().where((Rental.user == user)
                                      & (Rental.state == State.ACTIVE.value)))


# --- paid changes ----------------------------------------------------------------------------

def new_change(rental: Rental, user: User, kind: str, fee: int, now: datetime,
               **fields: object) -> ChangeRequest:
    """A change the student is looking at (``draft``) until they send it to the admins."""
    return ChangeRequest.create(rental=rental, user=user, kind=kind, fee=fee, state="draft",
                                created_at=to_db(now), **fields)


def change(change_id: int) -> ChangeRequest | None:
    return ChangeRequest.get_or_none(ChangeRequest.id == change_id)


def open_change(rental: Rental) -> ChangeRequest | None:
    """The rental's change still waiting for an admin or being carried out."""
    return (ChangeRequest.select().where((ChangeRequest.rental == rental)
                                         & ChangeRequest.state.in_(["pending", "approved"]))
            .first())


def move_change(change_id: int, expect: str, target: str, now: datetime,
                by: User | None = None, detail: str = "") -> bool:
    """Claim a change's move (``expect`` -> ``target``); False when someone got there first."""
    fields: dict[object, object] = {ChangeRequest.state: target}
    if by is not None:
        fields[ChangeRequest.decided_by] = by
        fields[ChangeRequest.decided_at] = to_db(now)
    if detail:
        fields[ChangeRequest.detail] = detail[:500]
    return bool(ChangeRequest.update(fields).where((ChangeRequest.id == change_id)
                                                   & (ChangeRequest.state == expect)).execute())


def version(rental_id: int) -> int:
    """The id of the rental's newest audit entry: anything that happens to it moves this."""
    newest = (AuditEvent.select(AuditEvent.id).where(AuditEvent.rental == rental_id)
              .order_by(AuditEvent.id.desc()).first())
    return int(newest.id) if newest else 1


def remember_card(change: ChangeRequest, chat_id: int, message_id: int) -> None:
    """An admin's card about a change, to close it once someone decided."""
    ChatMessage.create(rental=change.rental, purpose=f"chg{change.id}", chat_id=chat_id,
                       message_id=message_id)


def change_cards(change: ChangeRequest) -> list[ChatMessage]:
    return list(ChatMessage.select().where((ChatMessage.rental == change.rental)
                                           & (ChatMessage.purpose == f"chg{change.id}")))


def cost_of(rental: Rental) -> int:
    """What the rental has cost so far: its charges less what was credited back, in cents."""
    rows = LedgerEntry.select(LedgerEntry.kind, LedgerEntry.amount).where(
        (LedgerEntry.rental == rental) & LedgerEntry.kind.in_(["charge", "credit"]))
    return sum(r.amount if r.kind == "charge" else -r.amount for r in rows)


def set_language(user: User, lang: str) -> None:
    User.update(language=lang).where(User.id == user.id).execute()
