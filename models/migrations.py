"""Schema creation and upgrades: a version table and an ordered list of steps.

Each step runs once, in a transaction, and bumps the stored version. Add new steps at the end;
never edit a step that has shipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from peewee import Database, IntegerField, Model, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run

from models import tables as t

logger = logging.getLogger(__name__)


class SchemaVersion(Model):
    version = IntegerField()

    class Meta:
        table_name = "schema_version"


def _v1_initial(database: Database) -> None:
    database.create_tables(t.ALL_TABLES)
    # One live holder per GPU and per host port: enforced by the database itself.
    for model, column in ((t.GpuAllocation, t.GpuAllocation.gpu_index),
                          (t.PortAllocation, t.PortAllocation.port)):
        name = f"{model._meta.table_name}_live"
        index = model.index(model.host, column, unique=True, name=name)
        database.execute(index.where(model.released_at.is_null()))


def _v2_gpu_samples(database: Database) -> None:
    database.create_tables(t.LIFECYCLE_TABLES)


def _v3_rental_locks(database: Database) -> None:
    """Rental locks get a table of their own (they were rows among the notices); the status
    message columns that nothing ever used go."""
    database.create_tables(t.LOCK_TABLES)
    # The pattern as a parameter: peewee 4 hands psycopg2 an empty tuple, which reads a bare
    # "%" as a placeholder.
    database.execute_sql(f"DELETE FROM notice WHERE key LIKE {database.param}",  # noqa: S608
                         ("lock:R%",))
    migrator = SchemaMigrator.from_database(database)
    present = {c.name for c in database.get_columns("rental")}  # step 1 builds today's tables
    run(*[migrator.drop_column("rental", name)
          for name in ("status_chat_id", "status_message_id") if name in present])


def _v4_outbox(database: Database) -> None:
    """Messages kept while Telegram is away, and rentals whose credentials are still due."""
    database.create_tables(t.OUTBOX_TABLES)
    if "credentials_due" not in {c.name for c in database.get_columns("rental")}:
        migrator = SchemaMigrator.from_database(database)
        run(migrator.add_column("rental", "credentials_due", t.Rental.credentials_due))


def _v5_self_service(database: Database) -> None:
    """Students' SSH keys and their paid changes (image, ports) to running rentals."""
    database.create_tables(t.SELF_SERVICE_TABLES)


def _v6_process_lease(database: Database) -> None:
    database.create_tables(t.LEASE_TABLES)


def _v7_admin_settings(database: Database) -> None:
    """What admins set from the chat (maintenance, block reasons) survives a restart."""
    database.create_tables(t.ADMIN_TABLES)


def _v8_tick_indexes(database: Database) -> None:
    """Indexes that let the tick read only the work due now, however many years of rentals,
    samples and claims the database holds (benchmarks/scheduler.py measures it)."""
    for sql in (
        # workspaces: the last end per (host, student) of released rentals, by index alone
        "CREATE INDEX IF NOT EXISTS rental_state_host_user_ended"
        " ON rental (state, host_id, user_id, ended_at)",
        # compaction: raw samples past two days, without walking the hourly history
        "CREATE INDEX IF NOT EXISTS gpusample_hourly_at ON gpusample (hourly, at)",
        # password messages due for deletion, without walking the deleted ones
        "CREATE INDEX IF NOT EXISTS chatmessage_deleted_delete_after"
        " ON chatmessage (deleted, delete_after)",
    ):
        database.execute_sql(sql)
    if isinstance(database, PostgresqlDatabase):
        # claim prefixes (models.notices.prefixed) as LIKE 'idle:%' under any collation
        database.execute_sql(
            "CREATE INDEX IF NOT EXISTS notice_key_prefix ON notice (key text_pattern_ops)")


def _v9_image_catalogue(database: Database) -> None:
    """The image catalogue moves into the database (seeded from the config at start-up)."""
    database.create_tables(t.CATALOG_TABLES)


STEPS: list[Callable[[Database], None]] = [
    _v1_initial, _v2_gpu_samples, _v3_rental_locks, _v4_outbox, _v5_self_service,
    _v6_process_lease, _v7_admin_settings, _v8_tick_indexes, _v9_image_catalogue,
]


def current_version(database: Database) -> int:
    with database.bind_ctx([SchemaVersion]):
        database.create_tables([SchemaVersion])
        row = SchemaVersion.select().first()
        return row.version if row else 0


def migrate(database: Database) -> int:
    """Bring the schema to the newest version; returns the version now in place."""
    version = current_version(database)
    with database.bind_ctx([SchemaVersion]):
        for number, step in enumerate(STEPS[version:], start=version + 1):
            with database.atomic():
                step(database)
                SchemaVersion.delete().execute()
                SchemaVersion.create(version=number)
            logger.info("database schema upgraded to version %d", number)
    return len(STEPS)
