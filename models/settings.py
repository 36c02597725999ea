"""Values the admins set from the chat that outlive the process: maintenance mode, why a
student is blocked, how much time a rental the admin stopped had left."""

from __future__ import annotations

from datetime import datetime

from models.db import db
from models.tables import AuditEvent, Setting, User
from models.times import to_db

MAINTENANCE = "maintenance"


def get(key: str) -> str | None:
    row = Setting.get_or_none(Setting.key == key)
    return None if row is None else str(row.value)


def put(key: str, value: str, now: datetime, by: User | None) -> None:
    with db.atomic():
        updated = (Setting.update(value=value, updated_at=to_db(now), updated_by=by)
                   .where(Setting.key == key).execute())
        if not updated:
            Setting.create(key=key, value=value, updated_at=to_db(now), updated_by=by)


def drop(key: str) -> str | None:
    """Remove ``key``; returns the value it had (None when it was not set)."""
    with db.atomic():
        found = get(key)
        Setting.delete().where(Setting.key == key).execute()
    return found


def block_key(user: User) -> str:
    return f"block:{user.id}"


def set_blocked(user: User, blocked: bool, reason: str, now: datetime, by: User) -> bool:
    """Block or unblock ``user`` with its audit entry, in one transaction; False when the
    account was in that state already."""
    with db.atomic():
        moved = (User.update(blocked=blocked)
                 .where((User.id == user.id) & (User.blocked == (not blocked))).execute())
        if moved != 1:
            return False
        if blocked:
            put(block_key(user), reason, now, by)
        else:
            drop(block_key(user))
        AuditEvent.create(at=to_db(now), kind="blocked" if blocked else "unblocked",
                          actor=by, detail=f"user {user.telegram_id}: {reason}"[:500])
    return True


def block_reason(user: User) -> str:
    return get(block_key(user)) or ""


def set_maintenance(text: str | None, now: datetime, by: User) -> None:
    """On with ``text`` (may be empty), or off with None; audited."""
    with db.atomic():
        if text is None:
            drop(MAINTENANCE)
        else:
            put(MAINTENANCE, text, now, by)
        AuditEvent.create(at=to_db(now), kind="maintenance_on" if text is not None
                          else "maintenance_off", actor=by, detail=(text or "")[:500])


def maintenance() -> str | None:
    """The maintenance text while maintenance is on ("" when on without text), else None."""
    return get(MAINTENANCE)
