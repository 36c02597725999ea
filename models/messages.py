"""Bot messages to edit or delete later: approval cards, status and password messages."""

from __future__ import annotations

from datetime import datetime

from models.tables import ChatMessage
from models.times import to_db


def due_for_deletion(now: datetime) -> list[ChatMessage]:
    return list(ChatMessage.select().where(
        (ChatMessage.deleted == False)  # noqa: E712 - peewee builds SQL from ==
        & ChatMessage.delete_after.is_null(False)
        & (ChatMessage.delete_after <= to_db(now))))


def claim_deletion(row: ChatMessage) -> bool:
    """True for exactly one caller: the one that deletes the message."""
    claimed = (ChatMessage.update(deleted=True)
               .where((ChatMessage.id == row.id) & (ChatMessage.deleted == False))  # noqa: E712
               .execute())
    return bool(claimed == 1)


def unclaim_deletion(row: ChatMessage) -> None:
    """The deletion did not happen (Telegram away): due again at the next tick."""
    ChatMessage.update(deleted=False).where(ChatMessage.id == row.id).execute()
