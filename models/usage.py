"""GPU usage samples: one row per running rental per sample (its GPUs' average, per mille),
merged into hourly rows after a couple of days and pruned after that. Times are aware UTC."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import cast

from peewee import fn

from models.base import db
from models.tables import GpuAllocation, GpuSample, Rental
from models.times import from_db, to_db


def newest_at() -> datetime | None:
    """When the latest sample (of any rental) was taken."""
    row = GpuSample.select(GpuSample.at).order_by(GpuSample.at.desc()).first()
    return None if row is None else from_db(row.at)


def record(rental: Rental, now: datetime, span_s: int, util_pm: int, mem_pm: int) -> None:
    GpuSample.create(rental=rental, at=to_db(now), span_s=span_s, util_pm=util_pm,
                     mem_pm=mem_pm)


def _hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def compact(raw_before: datetime, prune_before: datetime, batch: int) -> int:
    """Merge up to ``batch`` raw samples taken before ``raw_before`` into one span-weighted
    row per rental and hour, and drop every sample taken before ``prune_before``. Returns how
    many raw samples were merged."""
    # "hourly = false", not "NOT hourly": only an equality lets the (hourly, at) index find
    # the few raw rows; "id + 0" keeps SQLite from walking all history in id order instead.
    raw = (GpuSample.hourly == False) & (GpuSample.at < to_db(raw_before))  # noqa: E712
    rows = list(GpuSample.select().where(raw).order_by(GpuSample.id + 0).limit(batch))
    buckets: dict[tuple[int, datetime], list[GpuSample]] = defaultdict(list)
    for row in rows:
        buckets[row.rental_id, _hour(row.at)].append(row)  # type: ignore[attr-defined]
    with db.atomic():
        for (rental_id, hour), group in buckets.items():
            span = sum(r.span_s for r in group)
            GpuSample.create(rental=rental_id, at=hour, span_s=span, hourly=True,
                             util_pm=round(sum(r.util_pm * r.span_s for r in group) / span),
                             mem_pm=round(sum(r.mem_pm * r.span_s for r in group) / span))
        GpuSample.delete().where(GpuSample.id.in_([r.id for r in rows])).execute()
        GpuSample.delete().where(GpuSample.at < to_db(prune_before)).execute()
    return len(rows)


def since(rental: Rental, start: datetime) -> list[tuple[datetime, int, int]]:
    """(at, util per mille, memory per mille) of the rental's samples after ``start``, newest
    first."""
    rows = (GpuSample.select().where((GpuSample.rental == rental)
                                     & (GpuSample.at > to_db(start)))
            .order_by(GpuSample.at.desc()))
    return [(_aware(r.at), r.util_pm, r.mem_pm) for r in rows]


Window = list[tuple[datetime, int, int]]  # (at, util per mille, memory per mille), newest first


def since_many(rental_ids: list[int], start: datetime) -> dict[int, Window]:
    """:func:`since` for many rentals in one query (the idle check reads every running
    rental's window on each tick), by rental id."""
    found: dict[int, Window] = defaultdict(list)
    for first in range(0, len(rental_ids), 500):  # bounded parameter lists
        query = (GpuSample.select(GpuSample.rental, GpuSample.at.cast("TEXT"),
                                  GpuSample.util_pm, GpuSample.mem_pm)
                 .where((GpuSample.at > to_db(start))
                        & GpuSample.rental.in_(rental_ids[first:first + 500]))
                 .order_by(GpuSample.at.desc()))
        # Read by the cursor, ``at`` as text parsed by fromisoformat: peewee's row handling
        # and date parsing cost three times the query itself at 10,000 rows.
        for rental_id, at, util_pm, mem_pm in db.execute(query).fetchall():
            when = datetime.fromisoformat(at).replace(tzinfo=UTC)
            found[rental_id].append((when, util_pm, mem_pm))
    return found


def window_totals(rental_ids: list[int], start: datetime
                  ) -> dict[int, tuple[int, int, int, datetime]]:
    """(samples, util sum, memory sum, newest) after ``start`` per rental, in one grouped
    query: enough to tell a busy or silent rental without reading its samples."""
    found: dict[int, tuple[int, int, int, datetime]] = {}
    for first in range(0, len(rental_ids), 500):
        query = (GpuSample.select(GpuSample.rental, fn.COUNT(GpuSample.id),
                                  fn.SUM(GpuSample.util_pm), fn.SUM(GpuSample.mem_pm),
                                  fn.MAX(GpuSample.at).cast("TEXT"))
                 .where((GpuSample.at > to_db(start))
                        & GpuSample.rental.in_(rental_ids[first:first + 500]))
                 .group_by(GpuSample.rental))
        for rental_id, count, util, mem, newest in db.execute(query).fetchall():
            when = datetime.fromisoformat(newest).replace(tzinfo=UTC)
            found[rental_id] = (int(count), int(util), int(mem), when)
    return found


def record_many(rows: list[tuple[int, datetime, int, int, int]]) -> None:
    """(rental id, at, span_s, util_pm, mem_pm) rows in one transaction, few statements."""
    with db.atomic():
        for start in range(0, len(rows), 500):
            GpuSample.insert_many(
                [{"rental": rid, "at": to_db(at), "span_s": span, "util_pm": util,
                  "mem_pm": mem} for rid, at, span, util, mem in rows[start:start + 500]]
            ).execute()


def average_util(rental: Rental, start: datetime) -> float | None:
    """Span-weighted average utilisation in percent after ``start``; None without samples."""
    rows = list(GpuSample.select().where((GpuSample.rental == rental)
                                         & (GpuSample.at > to_db(start))))
    span = sum(r.span_s for r in rows)
    return sum(r.util_pm * r.span_s for r in rows) / span / 10 if span else None


def live_gpus(rental_ids: list[int]) -> dict[int, list[str]]:
    """The GPUs each of the rentals holds now, ids in numeric order, by rental id."""
    found: dict[int, list[str]] = defaultdict(list)
    for first in range(0, len(rental_ids), 500):
        rows = cast(list[tuple[int, str]], list(
            GpuAllocation.select(GpuAllocation.rental, GpuAllocation.gpu_index)
            .where(GpuAllocation.rental.in_(rental_ids[first:first + 500])
                   & GpuAllocation.released_at.is_null()).tuples()))
        for rental_id, gpu in rows:
            found[rental_id].append(gpu)
    return {rid: sorted(gpus, key=int) for rid, gpus in found.items()}


def held_spans(rental: Rental) -> list[tuple[datetime, datetime | None]]:
    """(allocated, released or None while held) of every GPU the rental ever held."""
    rows = GpuAllocation.select().where(GpuAllocation.rental == rental)
    return [(_aware(r.allocated_at), from_db(r.released_at)) for r in rows]


def _aware(naive: datetime) -> datetime:
    found = from_db(naive)
    assert found is not None
    return found
