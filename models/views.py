"""What admins look at: the messages kept to edit later (approval cards, a student's status
message) and the reads behind the daily digest."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from models.tables import AuditEvent, ChatMessage, Rental
from models.times import to_db


def cards(rental: Rental) -> list[ChatMessage]:
    """The approval cards sent to admins about ``rental``."""
    return list(ChatMessage.select().where((ChatMessage.rental == rental)
                                           & (ChatMessage.purpose == "card")))


def remember_message(rental: Rental, purpose: str, chat_id: int, message_id: int) -> None:
    """Keep a sent message (``card`` or ``status``) to edit later."""
    ChatMessage.create(rental=rental, purpose=purpose, chat_id=chat_id, message_id=message_id)


def audit_since(start: datetime, kinds: Iterable[str]) -> list[AuditEvent]:
    """Audit entries of ``kinds`` made from ``start`` on, oldest first."""
    return list(AuditEvent.select().where((AuditEvent.at >= to_db(start))
                                          & AuditEvent.kind.in_(list(kinds)))
                .order_by(AuditEvent.at))
