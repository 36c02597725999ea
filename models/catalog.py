"""The image catalogue in the database: what /request offers, kept by the admins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from peewee import IntegrityError

from models.db import db
from models.tables import CatalogImage, User
from models.times import to_db


def seed(images: Iterable[tuple[str, str, str]], now: datetime) -> int:
    """Add the config's (key, name, ref) images never seen before; returns how many."""
    added = 0
    for key, name, ref in images:
        if CatalogImage.select().where(CatalogImage.key == key).exists():
            continue
        try:
            with db.atomic():
                CatalogImage.create(key=key, name=name, ref=ref, created_at=to_db(now))
            added += 1
        except IntegrityError:
            continue  # another process seeded it meanwhile
    return added


def offered() -> list[CatalogImage]:
    """What students may pick, in the order added."""
    return list(CatalogImage.select().where(~CatalogImage.hidden & ~CatalogImage.removed)
                .order_by(CatalogImage.id))


def kept() -> list[CatalogImage]:
    """Every image not removed (hidden ones too), for the admins."""
    return list(CatalogImage.select().where(~CatalogImage.removed).order_by(CatalogImage.id))


def find(image_id: int) -> CatalogImage | None:
    return CatalogImage.get_or_none((CatalogImage.id == image_id) & ~CatalogImage.removed)


def key_taken(key: str) -> bool:
    return bool(CatalogImage.select().where(CatalogImage.key == key).exists())


def add(key: str, name: str, ref: str, source: str, size: int, by: User,
        now: datetime) -> CatalogImage:
    return CatalogImage.create(key=key, name=name, ref=ref, source=source, size=size,
                               created_at=to_db(now), created_by=by)


def set_hidden(image_id: int, hidden: bool) -> bool:
    return bool(CatalogImage.update(hidden=hidden)
                .where((CatalogImage.id == image_id) & ~CatalogImage.removed).execute())


def remove(image_id: int) -> bool:
    return bool(CatalogImage.update(removed=True)
                .where((CatalogImage.id == image_id) & ~CatalogImage.removed).execute())
