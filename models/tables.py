"""Peewee tables. Times are stored as timezone-naive UTC; :mod:`models.queries` converts."""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    SmallIntegerField,
    TextField,
)

from models.base import BaseModel


class User(BaseModel):
    telegram_id = BigIntegerField(unique=True)
    first_name = CharField(max_length=128, default="")
    last_name = CharField(max_length=128, default="")
    username = CharField(max_length=64, default="")
    language = CharField(max_length=8, default="zh")
    role = CharField(max_length=16, default="student")  # student | admin
    blocked = BooleanField(default=False)
    created_at = DateTimeField()


class Host(BaseModel):
    name = CharField(max_length=32, unique=True)
    public_address = CharField(max_length=255)
    enabled = BooleanField(default=True)
    reachable = BooleanField(default=True)
    last_error = TextField(default="")


class Gpu(BaseModel):
    host = ForeignKeyField(Host, backref="gpus", on_delete="CASCADE")
    gpu_index = CharField(max_length=8)
    name = CharField(max_length=128, default="")
    memory_total = BigIntegerField(default=0)

    class Meta:
        indexes = ((("host", "gpu_index"), True),)


class Rental(BaseModel):
    """A student's request and, once approved and placed, the rental it became."""

    user = ForeignKeyField(User, backref="rentals")
    state = CharField(max_length=16, index=True)
    image_key = CharField(max_length=32)
    image_ref = CharField(max_length=255)
    custom_image = BooleanField(default=False)
    gpus = IntegerField()
    unit = CharField(max_length=8)
    quantity = IntegerField()
    price = IntegerField()  # cents
    purpose = TextField()
    extra_ports = CharField(max_length=64, default="")  # "6006,8080"
    host = ForeignKeyField(Host, null=True, backref="rentals")
    container_id = CharField(max_length=80, default="")
    container_name = CharField(max_length=80, default="")
    password_hash = CharField(max_length=255, default="")
    created_at = DateTimeField()
    submitted_at = DateTimeField(null=True)
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="decisions")
    reject_reason = TextField(default="")
    queued_at = DateTimeField(null=True)
    started_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True, index=True)
    ended_at = DateTimeField(null=True)
    failure = TextField(default="")
    # The credentials could not be delivered (Telegram away): a new password is set and sent
    # once Telegram answers, since the first one exists nowhere but in the lost message.
    credentials_due = BooleanField(default=False)

    @property
    def ref(self) -> str:
        return f"R{self.id}"


class GpuAllocation(BaseModel):
    """A GPU held by a rental. A partial unique index lets one live holder per GPU exist."""

    rental = ForeignKeyField(Rental, backref="gpu_allocations")
    host = ForeignKeyField(Host)
    gpu_index = CharField(max_length=8)
    allocated_at = DateTimeField()
    released_at = DateTimeField(null=True)


class PortAllocation(BaseModel):
    """A host port held by a rental, unique per host while held."""

    rental = ForeignKeyField(Rental, backref="port_allocations")
    host = ForeignKeyField(Host)
    port = IntegerField()
    container_port = IntegerField()
    allocated_at = DateTimeField()
    released_at = DateTimeField(null=True)


class LedgerEntry(BaseModel):
    """Immutable money movements; corrections are new entries."""

    user = ForeignKeyField(User, backref="ledger")
    rental = ForeignKeyField(Rental, null=True, backref="ledger")
    kind = CharField(max_length=16)  # charge | payment | refund | adjustment
    amount = IntegerField()  # cents, always positive; kind gives the sign
    reason = TextField(default="")
    reference = CharField(max_length=32, default="")
    created_by = ForeignKeyField(User, null=True, backref="ledger_made")
    created_at = DateTimeField()


class AuditEvent(BaseModel):
    at = DateTimeField(index=True)
    actor = ForeignKeyField(User, null=True)
    rental = ForeignKeyField(Rental, null=True, backref="events")
    kind = CharField(max_length=32)
    detail = TextField(default="")


class Notice(BaseModel):
    """A message that must be sent once (reminders, warnings): claimed by a unique key."""

    key = CharField(max_length=96, unique=True)
    rental = ForeignKeyField(Rental, null=True, backref="notices")
    created_at = DateTimeField()
    sent_at = DateTimeField(null=True)


class ChatMessage(BaseModel):
    """A bot message to edit or delete later (approval cards, password messages)."""

    rental = ForeignKeyField(Rental, null=True, backref="chat_messages")
    purpose = CharField(max_length=16)  # card | credentials | status
    chat_id = BigIntegerField()
    message_id = BigIntegerField()
    delete_after = DateTimeField(null=True, index=True)
    deleted = BooleanField(default=False)


ALL_TABLES: list[type[BaseModel]] = [
    User, Host, Gpu, Rental, GpuAllocation, PortAllocation, LedgerEntry, AuditEvent, Notice,
    ChatMessage,
]


class GpuSample(BaseModel):
    """A rental's GPU usage at one moment: the average over its GPUs, in per mille. Rows older
    than a couple of days are merged into one ``hourly`` row per hour, then pruned."""

    rental = ForeignKeyField(Rental, backref="gpu_samples", on_delete="CASCADE")
    at = DateTimeField(index=True)
    span_s = IntegerField()  # seconds of use this row stands for
    util_pm = SmallIntegerField()
    mem_pm = SmallIntegerField()
    hourly = BooleanField(default=False)

    class Meta:
        indexes = ((("rental", "at"), False),)


# Created by migration step 2; step 1 creates ALL_TABLES as they shipped.
LIFECYCLE_TABLES: list[type[BaseModel]] = [GpuSample]


class RentalLock(BaseModel):
    """Held while slow work runs on a rental's container (revival, release, removal): one
    holder at a time, across tasks and processes. A row older than ``models.locks.STALE`` was
    left by a crash."""

    rental = ForeignKeyField(Rental, unique=True, backref="lock", on_delete="CASCADE")
    taken_at = DateTimeField()


# Created by migration step 3.
LOCK_TABLES: list[type[BaseModel]] = [RentalLock]


class OutboxMessage(BaseModel):
    """A message Telegram could not take when it was sent (network down, proxy away): sent by
    the tick, in order, once Telegram answers again. Never holds a secret: messages carrying a
    password are not kept (see ``Rental.credentials_due``)."""

    chat_id = BigIntegerField(index=True)
    text = TextField()
    buttons = TextField(default="")  # JSON rows of [text, data, url]
    created_at = DateTimeField()
    attempts = IntegerField(default=0)


# Created by migration step 4 (with the ``credentials_due`` column of rentals).
OUTBOX_TABLES: list[type[BaseModel]] = [OutboxMessage]


class SshKey(BaseModel):
    """A student's SSH public key: installed in every rental of theirs, now and later."""

    user = ForeignKeyField(User, backref="ssh_keys", on_delete="CASCADE")
    key = TextField()  # "type base64" (the comment is dropped: it is the student's text)
    fingerprint = CharField(max_length=64)  # SHA256:…
    kind = CharField(max_length=32)  # ssh-ed25519 | ecdsa-sha2-nistp256 | ssh-rsa …
    bits = IntegerField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("user", "fingerprint"), True),)


class ChangeRequest(BaseModel):
    """A student's paid change to a running rental (another image, other ports): asked, then
    decided by an admin, then carried out. The fee is charged only once it is done."""

    rental = ForeignKeyField(Rental, backref="changes", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="changes")
    kind = CharField(max_length=8)  # image | ports
    image_key = CharField(max_length=32, default="")
    image_ref = CharField(max_length=255, default="")
    custom_image = BooleanField(default=False)
    extra_ports = CharField(max_length=64, default="")
    fee = IntegerField()  # cents
    state = CharField(max_length=16, index=True)  # pending|approved|rejected|done|failed|withdrawn
    created_at = DateTimeField()
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="change_decisions")
    detail = TextField(default="")


# Created by migration step 5.
SELF_SERVICE_TABLES: list[type[BaseModel]] = [SshKey, ChangeRequest]


class ProcessLease(BaseModel):
    """Which bot process runs on this database: one at a time, or two would fight over the
    same containers. Renewed by every tick; a lease not renewed for a while was left by a
    process that died."""

    name = CharField(max_length=32, unique=True)
    holder = CharField(max_length=128)  # host:pid:random
    renewed_at = DateTimeField()


# Created by migration step 6.
LEASE_TABLES: list[type[BaseModel]] = [ProcessLease]


class Setting(BaseModel):
    """One value the admins set from the chat that must survive a restart (maintenance mode,
    a block's reason, a paused rental's remaining time), by key."""

    key = CharField(max_length=64, unique=True)
    value = TextField(default="")
    updated_at = DateTimeField()
    updated_by = ForeignKeyField(User, null=True, backref="settings_made")


# Created by migration step 7.
ADMIN_TABLES: list[type[BaseModel]] = [Setting]


class CatalogImage(BaseModel):
    """An image students may pick in /request: seeded from the config once, then kept by the
    admins in the chat (added by reference, hidden, removed). A removed row stays, so the
    seed does not bring it back."""

    key = CharField(max_length=16, unique=True)  # fits a button's data
    name = CharField(max_length=128)
    ref = CharField(max_length=255)
    source = CharField(max_length=8, default="config")  # config | added | prepared
    hidden = BooleanField(default=False)
    removed = BooleanField(default=False)
    size = BigIntegerField(default=0)  # bytes, when known
    created_at = DateTimeField()
    created_by = ForeignKeyField(User, null=True, backref="images_added")


# Created by migration step 9.
CATALOG_TABLES: list[type[BaseModel]] = [CatalogImage]
