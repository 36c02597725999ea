"""Who is talking to us: register people as they arrive and keep their names current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.i18n import language_for
from models import queries
from models.tables import User


@dataclass(frozen=True)
class Person:
    """What the chat layer knows about a Telegram user; no Telegram types past this point."""

    telegram_id: int
    first_name: str
    last_name: str = ""
    username: str = ""
    language_code: str | None = None


def register(person: Person, admins: tuple[int, ...], default_language: str,
             now: datetime) -> User:
    user = queries.upsert_user(
        telegram_id=person.telegram_id, first_name=person.first_name,
        last_name=person.last_name, username=person.username,
        language=language_for(person.language_code, default_language),
        is_admin=person.telegram_id in admins, now=now,
    )
    return user


def display_name(user: User) -> str:
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or str(user.telegram_id)
    return f"{name} (@{user.username})" if user.username else name
