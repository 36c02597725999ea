"""The database proxy (bound once at start-up by :func:`models.db.open_database`) and the
base of every table."""

from __future__ import annotations

from peewee import AutoField, DatabaseProxy, Model

db = DatabaseProxy()


class BaseModel(Model):
    id = AutoField()

    class Meta:
        database = db
