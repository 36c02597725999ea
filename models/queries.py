"""Queries and atomic claims used by the use cases. All times in and out are aware UTC."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from peewee import IntegrityError

from models.db import db
from models.tables import (
    AuditEvent,
    ChatMessage,
    Gpu,
    GpuAllocation,
    Host,
    LedgerEntry,
    PortAllocation,
    Rental,
    User,
)
from models.times import from_db, to_db

__all__ = ["from_db", "to_db"]  # re-exported: most callers reach them through queries

logger = logging.getLogger(__name__)


class AllocationConflictError(Exception):
    """A GPU or port was taken by someone else between reading and claiming it."""


def upsert_user(telegram_id: int, first_name: str, last_name: str, username: str,
                language: str, is_admin: bool, now: datetime) -> User:
    role = "admin" if is_admin else "student"
    user, created = User.get_or_create(
        telegram_id=telegram_id,
        defaults={"first_name": first_name, "last_name": last_name, "username": username,
                  "language": language, "role": role, "created_at": to_db(now)},
    )
    if not created:
        changed = (user.first_name, user.last_name, user.username, user.role) != (
            first_name, last_name, username, role)
        if changed:
            user.first_name, user.last_name, user.username, user.role = (
                first_name, last_name, username, role)
            user.save()
    return user


def ensure_hosts(hosts: Iterable[tuple[str, str, list[tuple[str, str, int]]]]) -> None:
    """Record configured hosts and their GPUs (name, address, [(index, model, memory)])."""
    with db.atomic():
        for name, address, gpus in hosts:
            host, _ = Host.get_or_create(name=name, defaults={"public_address": address})
            if host.public_address != address:
                host.public_address = address
                host.save()
            for index, model, memory in gpus:
                Gpu.insert(host=host, gpu_index=index, name=model,
                           memory_total=memory).on_conflict(
                    conflict_target=[Gpu.host, Gpu.gpu_index],
                    update={Gpu.name: model, Gpu.memory_total: memory}).execute()


def held_gpus(host: Host) -> set[str]:
    rows = GpuAllocation.select(GpuAllocation.gpu_index).where(
        (GpuAllocation.host == host) & GpuAllocation.released_at.is_null())
    return {r.gpu_index for r in rows}


def held_ports(host: Host) -> set[int]:
    rows = PortAllocation.select(PortAllocation.port).where(
        (PortAllocation.host == host) & PortAllocation.released_at.is_null())
    return {r.port for r in rows}


def allocate(rental: Rental, host: Host, gpu_ids: list[str], ports: dict[int, int],
             now: datetime) -> None:
    """Claim GPUs and host ports for a rental in one transaction; all or nothing."""
    at = to_db(now)
    try:
        with db.atomic():
            for gpu in gpu_ids:
                GpuAllocation.create(rental=rental, host=host, gpu_index=gpu, allocated_at=at)
            for container_port, host_port in ports.items():
                PortAllocation.create(rental=rental, host=host, port=host_port,
                                      container_port=container_port, allocated_at=at)
    except IntegrityError as exc:
        raise AllocationConflictError(str(exc)) from None


def release_gpus(rental: Rental, now: datetime) -> int:
    return (GpuAllocation.update(released_at=to_db(now))
            .where((GpuAllocation.rental == rental) & GpuAllocation.released_at.is_null())
            .execute())


def release_ports(rental: Rental, now: datetime) -> int:
    return (PortAllocation.update(released_at=to_db(now))
            .where((PortAllocation.rental == rental) & PortAllocation.released_at.is_null())
            .execute())


def release_all(rental: Rental, now: datetime) -> None:
    """The rental holds nothing any more: GPUs and host ports go back."""
    release_gpus(rental, now)
    release_ports(rental, now)


def rental_ports(rental: Rental) -> dict[int, int]:
    rows = PortAllocation.select().where(
        (PortAllocation.rental == rental) & PortAllocation.released_at.is_null())
    return {r.container_port: r.port for r in rows}


def rental_gpus(rental: Rental) -> list[str]:
    rows = GpuAllocation.select().where(
        (GpuAllocation.rental == rental) & GpuAllocation.released_at.is_null())
    return sorted((r.gpu_index for r in rows), key=int)


def audit(kind: str, now: datetime, rental: Rental | None = None, actor: User | None = None,
          detail: str = "") -> None:
    AuditEvent.create(at=to_db(now), kind=kind, rental=rental, actor=actor, detail=detail)


def swap_port(rental: Rental, host: Host, old: int, new: int, now: datetime) -> None:
    """Give up a host port that turned out to be taken outside our records; hold another."""
    try:
        with db.atomic():
            row = PortAllocation.get((PortAllocation.rental == rental)
                                     & (PortAllocation.port == old)
                                     & PortAllocation.released_at.is_null())
            row.released_at = to_db(now)
            row.save()
            PortAllocation.create(rental=rental, host=host, port=new,
                                  container_port=row.container_port, allocated_at=to_db(now))
            AuditEvent.create(at=to_db(now), kind="port_swapped", rental=rental,
                              detail=f"{row.container_port}: host port {old} -> {new}")
    except IntegrityError as exc:
        raise AllocationConflictError(str(exc)) from None


def host_named(name: str) -> Host:
    return Host.get(Host.name == name)


def credentials_messages(rental: Rental, chat_id: int, message_ids: Iterable[int | None],
                         delete_after: datetime) -> None:
    """Remember the messages that carry a password, to delete them at ``delete_after``."""
    for message_id in message_ids:
        if message_id is not None:
            ChatMessage.create(rental=rental, purpose="credentials", chat_id=chat_id,
                               message_id=message_id, delete_after=to_db(delete_after))


def last_gpus(rental: Rental) -> list[str]:
    """The GPUs the rental's container was made for (its most recent allocation)."""
    rows = list(GpuAllocation.select().where(GpuAllocation.rental == rental)
                .order_by(GpuAllocation.allocated_at.desc()))
    if not rows:
        return []
    return sorted((r.gpu_index for r in rows if r.allocated_at == rows[0].allocated_at), key=int)


def expired_holding_gpus() -> list[Rental]:
    """Expired rentals that still hold GPUs (a revival cut short by a crash)."""
    return list(Rental.select().join(GpuAllocation, on=GpuAllocation.rental == Rental.id)
                .where((Rental.state == "expired") & GpuAllocation.released_at.is_null())
                .distinct())


def has_charge(rental: Rental) -> bool:
    return bool(LedgerEntry.select().where((LedgerEntry.rental == rental)
                                           & (LedgerEntry.kind == "charge")).exists())


# --- users, for the use cases ---

def user_by_telegram(telegram_id: int) -> User | None:
    return User.get_or_none(User.telegram_id == telegram_id)


def user_by_id(user_id: int) -> User:
    return User.get_by_id(user_id)
