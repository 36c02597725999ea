"""Schema upgrades: a database made by an older release is brought up to date, data kept."""

from __future__ import annotations

from datetime import UTC, datetime

from models import locks, queries
from models.base import db
from models.migrations import STEPS, SchemaVersion, migrate
from models.tables import Notice, Rental, RentalLock

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_version_2_database_gets_lock_table_and_loses_unused_columns(database: str) -> None:
    database_obj = db.obj
    user = queries.upsert_user(7, "Li", "", "li", "zh", False, NOW)
    rental = Rental.create(user=user, state="active", image_key="pytorch", image_ref="x",
                           gpus=1, unit="hour", quantity=1, price=200, purpose="p",
                           created_at=queries.to_db(NOW))
    # Back to how release 2 left it: no lock table, the two status columns, a lock notice.
    database_obj.drop_tables([RentalLock])
    database_obj.execute_sql("ALTER TABLE rental ADD COLUMN status_chat_id BIGINT")
    database_obj.execute_sql("ALTER TABLE rental ADD COLUMN status_message_id BIGINT")
    Notice.create(key=f"lock:R{rental.id}", rental=rental, created_at=queries.to_db(NOW))
    with database_obj.bind_ctx([SchemaVersion]):
        SchemaVersion.update(version=2).execute()

    assert migrate(database_obj) == len(STEPS) == 9
    columns = {c.name for c in database_obj.get_columns("rental")}
    assert {"status_chat_id", "status_message_id"}.isdisjoint(columns)
    assert Rental.get_by_id(rental.id).state == "active"
    assert not Notice.select().where(Notice.key.startswith("lock:")).exists()
    assert locks.take(rental.id, NOW) and not locks.take(rental.id, NOW)
