"""Messages waiting for Telegram to answer again, oldest first."""

from __future__ import annotations

import json
from datetime import datetime

from models.tables import OutboxMessage
from models.times import to_db

Rows = list[list[tuple[str, str | None, str | None]]]


def keep(chat_id: int, text: str, rows: Rows, now: datetime) -> None:
    OutboxMessage.create(chat_id=chat_id, text=text, buttons=json.dumps(rows) if rows else "",
                         created_at=to_db(now))


def waiting(limit: int) -> list[tuple[int, int, str, Rows]]:
    """(id, chat, text, button rows) of the oldest waiting messages."""
    found = OutboxMessage.select().order_by(OutboxMessage.id).limit(limit)
    return [(m.id, m.chat_id, m.text, json.loads(m.buttons) if m.buttons else [])
            for m in found]


def done(message_id: int) -> None:
    OutboxMessage.delete().where(OutboxMessage.id == message_id).execute()


def count() -> int:
    return int(OutboxMessage.select().count())
