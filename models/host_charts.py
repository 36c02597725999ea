"""What the admins' /hosts reads beyond who holds what: each GPU's utilization over a window
(the samples of the rentals that held it, while they held it), when it was last busy, and its
model and memory. Samples are per rental (the mean over its GPUs), so a GPU's value is its
holder's."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from models.tables import Gpu, GpuAllocation, GpuSample, Host
from models.times import from_db, to_db

BUSY_PM = 50  # 5 %: below this a GPU counts as idle

Series = dict[tuple[str, str], list[tuple[datetime, float]]]


def gpu_models() -> dict[tuple[str, str], tuple[str, int]]:
    """(host, GPU id) -> (model name, memory total in bytes) as recorded at start-up."""
    rows = Gpu.select(Gpu, Host).join(Host)
    return {(g.host.name, g.gpu_index): (g.name, int(g.memory_total)) for g in rows}


def _spans(start: datetime) -> list[GpuAllocation]:
    return list(GpuAllocation.select(GpuAllocation, Host).join(Host)
                .where(GpuAllocation.released_at.is_null()
                       | (GpuAllocation.released_at >= to_db(start))))


def util_series(start: datetime, now: datetime) -> Series:
    """(host, GPU id) -> [(at, utilization %)] from ``start`` on, oldest first."""
    series: Series = defaultdict(list)
    for span in _spans(start):
        first = max(to_db(start), span.allocated_at)
        last = span.released_at or to_db(now)
        rows = (GpuSample.select(GpuSample.at, GpuSample.util_pm)
                .where((GpuSample.rental == span.rental_id) & (GpuSample.at >= first)  # type: ignore[attr-defined]
                       & (GpuSample.at <= last)).order_by(GpuSample.at))
        key = (span.host.name, span.gpu_index)
        series[key] += [(from_db(r.at) or now, r.util_pm / 10) for r in rows]
    for points in series.values():
        points.sort()
    return dict(series)


def last_busy(start: datetime, now: datetime) -> dict[tuple[str, str], datetime]:
    """(host, GPU id) -> the newest moment since ``start`` it was busy (utilization >= 5 %)."""
    busy: dict[tuple[str, str], datetime] = {}
    for key, points in util_series(start, now).items():
        times = [at for at, util in points if util * 10 >= BUSY_PM]
        if times:
            busy[key] = max(times)
    return busy


def last_released() -> dict[tuple[str, str], datetime]:
    """(host, GPU id) -> when its last holder let it go."""
    found: dict[tuple[str, str], datetime] = {}
    rows = (GpuAllocation.select(GpuAllocation, Host).join(Host)
            .where(GpuAllocation.released_at.is_null(False)))
    for row in rows:
        key, at = (row.host.name, row.gpu_index), from_db(row.released_at)
        if at is not None and (key not in found or at > found[key]):
            found[key] = at
    return found
