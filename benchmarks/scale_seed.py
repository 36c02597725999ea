"""A university-wide desk's database, written straight into the tables: 250 hosts, rentals
made over three years, GPU usage history. What a tick has to do *now* (running rentals,
expired containers, the queue, workspaces to warn about) grows with ``rentals``; the rest is
history that a tick should never have to read.

Shares of ``rentals``: 5 % running, 1 % expired (container kept), 0.5 % queued (asking for
more GPUs than a host has, so they wait on every tick: the waitlist's worst case), 0.5 %
pending, 6 % rejected/cancelled/failed, the rest released over the three years.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from peewee import PostgresqlDatabase

from bot.config import Config, parse_config
from models.base import db
from models.tables import (
    AuditEvent,
    ChatMessage,
    Gpu,
    GpuAllocation,
    Host,
    Notice,
    PortAllocation,
    Rental,
    User,
)

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai: daily messages are due
HOSTS = 250
GPUS_PER_HOST = 8
YEARS = 3
ADMIN = 9000001


def naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def config(hosts: int = HOSTS) -> Config:
    return parse_config({
        "timezone": "Asia/Shanghai", "language": "en",
        "telegram": {"admins": [ADMIN]},
        "hosts": [{"name": f"g{i:03d}", "gpus": [str(g) for g in range(GPUS_PER_HOST)],
                   "workspace_root": "/data/ws", "port_range": [20000, 29999]}
                  for i in range(hosts)],
    })


@dataclass
class Containers:
    """Per host: (container id, labels, state) as Docker would list them."""

    by_host: dict[str, list[tuple[str, dict[str, str], str]]] = field(default_factory=dict)


@dataclass
class _Rows:
    rentals: list[dict[str, Any]] = field(default_factory=list)
    gpus: list[dict[str, Any]] = field(default_factory=list)
    ports: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows (dicts of field names, all with the same keys) by the driver's own bulk insert:
    peewee's multi-row INSERTs spend most of a seed building SQL text."""
    if not rows:
        return
    fields = [f for f in model._meta.sorted_fields
              if f.name != "id" or any("id" in r for r in rows)]
    defaults = {f.name: f.default() if callable(f.default) else f.default for f in fields}
    columns = ", ".join(f'"{f.column_name}"' for f in fields)  # "user" is a keyword
    _bulk(f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ',
          [tuple(r.get(f.name, defaults[f.name]) for f in fields) for r in rows])


def _bulk(sql: str, rows: list[tuple[Any, ...]]) -> None:
    cursor = db.cursor()
    if isinstance(db.obj, PostgresqlDatabase):
        from psycopg2.extras import execute_values

        execute_values(cursor, sql + "%s", rows, page_size=10_000)
        return
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    cursor.executemany(sql + marks, [tuple(_sqlite(v) for v in row) for row in rows])


def _sqlite(value: Any) -> Any:
    """As peewee stores it: datetimes as text, booleans as 0/1."""
    if isinstance(value, datetime):
        return value.isoformat(" ")
    return int(value) if isinstance(value, bool) else value


def _hosts(hosts: int) -> list[int]:
    with db.atomic():
        _insert(Host, [{"name": f"g{i:03d}", "public_address": f"10.0.{i // 250}.{i % 250}"}
                       for i in range(hosts)])
        ids = [h.id for h in Host.select(Host.id).order_by(Host.id)]
        _insert(Gpu, [{"host": h, "gpu_index": str(g), "name": "H200", "memory_total": 141 << 30}
                      for h in ids for g in range(GPUS_PER_HOST)])
    return ids


def _users(count: int) -> list[int]:
    with db.atomic():
        _insert(User, [{"telegram_id": 7_000_000 + i, "first_name": f"S{i}", "language": "en",
                        "created_at": naive(NOW - timedelta(days=3 * 365))}
                       for i in range(count)])
        User.insert(telegram_id=ADMIN, first_name="Boss", role="admin", language="en",
                    created_at=naive(NOW - timedelta(days=3 * 365))).execute()
    return [u.id for u in User.select(User.id).where(User.role == "student").order_by(User.id)]


def _kinds(rentals: int) -> Iterator[str]:
    shares = [("active", 0.05), ("expired", 0.01), ("queued", 0.005), ("pending", 0.005),
              ("rejected", 0.02), ("cancelled", 0.02), ("failed", 0.02)]
    made = 0
    for kind, share in shares:
        n = max(1, round(rentals * share))
        made += n
        yield from [kind] * n
    yield from ["released"] * max(0, rentals - made)


def seed(rentals: int, samples: int, hosts: int = HOSTS, rng_seed: int = 13) -> Containers:
    """Fill an empty, migrated database; returns the containers Docker should list."""
    rng = random.Random(rng_seed)
    host_ids = _hosts(hosts)
    users = _users(max(20, rentals // 5))
    rows, boxes = _Rows(), Containers()
    free = {h: list(range(GPUS_PER_HOST)) for h in host_ids}
    for rid, kind in enumerate(_kinds(rentals), start=1):
        _rental(rows, boxes, rng, rid, kind, rng.choice(users), host_ids, free)
    _workspace_claims(rows)
    with db.atomic():
        for model, found in ((Rental, rows.rentals), (GpuAllocation, rows.gpus),
                             (PortAllocation, rows.ports), (AuditEvent, rows.audit),
                             (Notice, rows.notices), (ChatMessage, rows.messages)):
            _insert(model, found)
    _samples(rng, samples, rows.rentals)
    return boxes


def _rental(rows: _Rows, boxes: Containers, rng: random.Random, rid: int, kind: str,
            user: int, host_ids: list[int], free: dict[int, list[int]]) -> None:
    if kind == "active":
        start = NOW - timedelta(hours=rng.randint(1, 24 * 20))
        end = NOW + timedelta(hours=rng.randint(1, 24 * 10))
    elif kind == "expired":
        end = NOW - timedelta(hours=rng.randint(1, 24 * 6))
        start = end - timedelta(days=rng.randint(1, 14))
    else:
        end = NOW - timedelta(hours=rng.randint(1, 24 * 365 * YEARS))
        start = end - timedelta(days=rng.randint(1, 14))
    gpus = 16 if kind == "queued" else rng.choice((1, 1, 2, 4))
    placed = kind in ("active", "expired", "released")
    host = _place(rng, host_ids, free, gpus, kind) if placed else None
    cid = f"c{rid:08d}" if kind in ("active", "expired") else ""
    rows.rentals.append({
        "id": rid, "user": user, "state": kind, "image_key": "pytorch",
        "image_ref": "nvcr.io/nvidia/pytorch:24.01-py3", "gpus": gpus, "unit": "day",
        "quantity": 7, "price": 7000, "purpose": "thesis", "host": host[0] if host else None,
        "container_id": cid, "container_name": f"gpurent-r{rid}" if cid else "",
        "created_at": naive(start - timedelta(hours=2)),
        "submitted_at": naive(start - timedelta(hours=2)),
        "decided_at": naive(start - timedelta(hours=1)),
        "queued_at": naive(NOW - timedelta(hours=1)) if kind == "queued" else None,
        "started_at": naive(start) if placed else None,
        "expires_at": naive(end) if placed else None,
        "ended_at": naive(end) if kind == "released" else None,
    })
    if host is not None:
        _holds(rows, rid, kind, host, start, end)
        _claims(rows, rid, kind, start, end)
    if cid and host is not None:
        state = "running" if kind == "active" else "exited"
        boxes.by_host.setdefault(f"g{host[0] - 1:03d}", []).append(
            (cid, {"gpurent.rental": str(rid)}, state))


def _place(rng: random.Random, host_ids: list[int], free: dict[int, list[int]], gpus: int,
           kind: str) -> tuple[int, list[int]]:
    if kind != "active":
        host = rng.choice(host_ids)
        return host, list(range(gpus))
    fits = [h for h in host_ids if len(free[h]) >= gpus] or host_ids
    host = rng.choice(fits)
    taken, free[host] = free[host][:gpus], free[host][gpus:]
    return host, taken


def _holds(rows: _Rows, rid: int, kind: str, host: tuple[int, list[int]], start: datetime,
           end: datetime) -> None:
    released = None if kind == "active" else naive(end)
    for g in host[1]:
        rows.gpus.append({"rental": rid, "host": host[0], "gpu_index": str(g),
                          "allocated_at": naive(start), "released_at": released})
    ports_held = None if kind in ("active", "expired") else naive(end)
    for i, inner in enumerate((22, 8888)):
        rows.ports.append({"rental": rid, "host": host[0], "port": 20000 + 2 * rid + i,
                           "container_port": inner, "allocated_at": naive(start),
                           "released_at": ports_held})
    for what, at in (("approved", start), ("provisioning", start), ("active", start),
                     ("expired", end), ("released", end)):
        if at <= NOW:
            rows.audit.append({"at": naive(at), "kind": what, "rental": rid, "detail": ""})
    rows.messages.append({"rental": rid, "purpose": "credentials", "chat_id": 1,
                          "message_id": rid, "delete_after": naive(start + timedelta(hours=24)),
                          "deleted": start + timedelta(hours=24) <= NOW})


def _claims(rows: _Rows, rid: int, kind: str, start: datetime, end: datetime) -> None:
    """The once-only claims a rental's life leaves behind (reminders, warnings)."""
    epoch = int(end.timestamp())
    for offset in (86400, 10800, 1800):
        if end - timedelta(seconds=offset) <= NOW:
            rows.notices.append({"key": f"rem:{rid}:{epoch}:{offset}", "rental": rid,
                                 "created_at": naive(end), "sent_at": naive(end)})
    due = end + timedelta(days=7)
    for offset in (259200, 86400):
        if kind == "released" or (kind == "expired" and due - timedelta(seconds=offset) <= NOW):
            rows.notices.append({"key": f"ct:{rid}:{epoch}:w{offset}", "rental": rid,
                                 "created_at": naive(end), "sent_at": naive(end)})


def _workspace_claims(rows: _Rows) -> None:
    """Workspaces deleted long ago carry their ``done:`` claim, the ones due soon their
    warnings: the state a desk that has run for years is in."""
    last: dict[tuple[int, int], datetime] = {}
    in_use = {(r["host"], r["user"]) for r in rows.rentals if r["state"] in ("active", "expired")}
    for r in rows.rentals:
        if r["state"] == "released" and (r["host"], r["user"]) not in in_use:
            key = (r["host"], r["user"])
            last[key] = max(last.get(key, r["ended_at"]), r["ended_at"])
    for (host, user), ended in last.items():
        key = f"ws:{host}:{user}:{int(ended.replace(tzinfo=UTC).timestamp())}"
        due = ended.replace(tzinfo=UTC) + timedelta(days=30)
        claims = [f"{key}:w{s}" for s in (604800, 86400) if due - timedelta(seconds=s) <= NOW]
        claims += [f"done:{key}"] if due <= NOW else []
        rows.notices += [{"key": k, "created_at": ended, "sent_at": ended} for k in claims]


def _samples(rng: random.Random, total: int, rentals: list[dict[str, Any]]) -> None:
    """Raw samples every 5 minutes for the last two days of running rentals, the rest as
    hourly rows of rentals that ran in the last 90 days (older ones are pruned)."""
    running = [r for r in rentals if r["state"] == "active"]
    recent = [r for r in rentals if r["expires_at"] is not None
              and r["expires_at"] >= naive(NOW - timedelta(days=90))] or running
    rows: list[tuple[int, datetime, int, int, int, bool]] = []
    for r in running:
        busy = r["id"] % 3 != 0  # a third of them idle
        for step in range(1, 577):
            at = naive(NOW - timedelta(minutes=5 * step - 4))
            if len(rows) >= total or at < r["started_at"]:
                break
            rows.append((r["id"], at, 300, 700 if busy else 0, 500 if busy else 0, False))
    while len(rows) < total:
        r = rng.choice(recent)
        at = naive(NOW - timedelta(hours=rng.randint(48, 89 * 24)))
        rows.append((r["id"], at, 3600, rng.randint(0, 1000), rng.randint(0, 1000), True))
    _bulk_samples(rows)


def _bulk_samples(rows: list[tuple[int, datetime, int, int, int, bool]]) -> None:
    with db.atomic():
        _bulk("INSERT INTO gpusample (rental_id, at, span_s, util_pm, mem_pm, hourly) VALUES ",
              sorted(rows, key=lambda r: r[1]))  # in time order: the indexes on "at" append
