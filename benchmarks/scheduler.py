"""Scheduler at scale: one tick (``bot.jobs.run_tick``) at 100 / 1,000 / 10,000 rentals made
over the years, with 1,000,000 GPU samples and 250 hosts, on SQLite and PostgreSQL.

The baseline, in the same run: the same tick on a database that holds only the work due now
(the running, expired, queued and pending rentals, no history, no samples). The ratio says how
much the history costs; the statement count says whether the cost is N+1 queries.

    .venv/bin/python -m benchmarks.scheduler [--scales 100,1000,10000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from benchmarks import scale_seed
from bot.clock import FrozenClock
from bot.jobs import run_tick
from bot.ports import GpuReading, RuntimeFaultError
from bot.services import Services
from models.base import db
from models.db import close_database, open_database
from models.tables import GpuSample, Rental
from tests.fakes import RecordingNotifier

TICKS = 10  # one simulated minute apart: one of them samples GPU usage, one reconciles
SAMPLES = 1_000_000


class BenchRuntime:
    """Docker as a desk of healthy hosts would answer, instantly: the benchmark times the
    bot's own work, not the engines'."""

    def __init__(self, boxes: scale_seed.Containers) -> None:
        self.boxes = boxes

    async def ping(self, host: str) -> None:
        return None

    async def list_ours(self, host: str) -> list[tuple[str, dict[str, str], str]]:
        return list(self.boxes.by_host.get(host, []))

    async def gpu_usage(self, host: str) -> list[GpuReading]:
        return [GpuReading(gpu_index=str(g), utilization=40, memory_used=1 << 30,
                           memory_total=141 << 30) for g in range(scale_seed.GPUS_PER_HOST)]

    async def published_ports(self, host: str) -> set[int]:
        return set()

    def __getattr__(self, name: str) -> Any:
        async def refuse(*args: Any, **kwargs: Any) -> None:
            raise RuntimeFaultError(name, f"benchmark runtime: {name} not expected",
                                    transient=True)
        return refuse


class StatementCounter(logging.Handler):
    """peewee logs every statement at DEBUG on the ``peewee`` logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class TickFigures:
    label: str
    rentals: int
    samples: int
    median_ms: float
    max_ms: float
    statements: int  # median per tick

    def row(self) -> str:
        return (f"| {self.label} | {self.rentals:,} | {self.samples:,} | "
                f"{self.median_ms:.1f} ms | {self.max_ms:.1f} ms | {self.statements:,} |")


def _services(boxes: scale_seed.Containers, clock: FrozenClock) -> Services:
    return Services(config=scale_seed.config(), clock=clock, runtime=BenchRuntime(boxes),
                    notifier=RecordingNotifier(), tick_seconds=0)


async def _ticks(services: Services, clock: FrozenClock) -> tuple[list[float], list[int]]:
    counter = StatementCounter()
    peewee_log = logging.getLogger("peewee")
    peewee_log.addHandler(counter)
    peewee_log.setLevel(logging.DEBUG)
    peewee_log.propagate = False
    timings: list[float] = []
    counts: list[int] = []
    try:
        await run_tick(services)  # the first tick catches up: daily messages, idle reminders
        await services.idle()
        for _ in range(TICKS):
            clock.advance(timedelta(minutes=1))
            counter.count = 0
            t0 = time.perf_counter()
            await run_tick(services)
            timings.append((time.perf_counter() - t0) * 1000)
            counts.append(counter.count)
            await services.idle()
    finally:
        peewee_log.removeHandler(counter)
        peewee_log.setLevel(logging.WARNING)
    return timings, counts


def _history_removed() -> None:
    """Keep only what is due now: the baseline's database. Running rentals keep their raw
    samples of the last two days (the idle check's work), not the hourly history."""
    live = ("active", "expired", "queued", "pending")
    with db.atomic():
        for table in ("gpusample", "notice", "auditevent", "chatmessage", "gpuallocation",
                      "portallocation"):
            db.execute_sql(f"DELETE FROM {table} WHERE rental_id IS NULL OR rental_id IN "
                           f"(SELECT id FROM rental WHERE state NOT IN {live!r})")
        GpuSample.delete().where(GpuSample.hourly == True).execute()  # noqa: E712
        Rental.delete().where(Rental.state.not_in(live)).execute()


def _figures(label: str, rentals: int, boxes: scale_seed.Containers) -> TickFigures:
    kept = GpuSample.select().count()
    db.execute_sql("ANALYZE")
    clock = FrozenClock(scale_seed.NOW)
    timings, counts = asyncio.run(_ticks(_services(boxes, clock), clock))
    return TickFigures(label, rentals, kept, statistics.median(timings), max(timings),
                       int(statistics.median(counts)))


def measure(url: str, rentals: int, samples: int) -> tuple[TickFigures, TickFigures]:
    """(baseline, the bot) on one seeded database: the bot first, then the history taken
    out for the baseline."""
    open_database(url)
    try:
        boxes = scale_seed.seed(rentals, samples)
        bot = _figures("the bot", rentals, boxes)
        _history_removed()
        return _figures("due work only (baseline)", rentals, boxes), bot
    finally:
        close_database()


def _fresh_postgres(url: str) -> None:
    from playhouse.db_url import connect

    admin = connect(url)
    admin.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    admin.close()


def run(scales: list[int], postgres: str | None, samples: int = SAMPLES) -> list[str]:
    lines = ["| database · run | rentals | samples | tick median | tick max | statements |",
             "|---|---|---|---|---|---|"]
    backends = [("PostgreSQL", postgres)] if postgres else [("SQLite", None)]
    for name, pg in backends:
        for rentals in scales:
            with tempfile.TemporaryDirectory() as tmp:
                if pg:
                    _fresh_postgres(pg)
                found = measure(pg or f"sqlite:///{tmp}/bench.db", rentals, samples)
            for fig in found:
                lines.append(fig.row().replace("| ", f"| {name} · ", 1))
                print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="100,1000,10000")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--postgres", default=None, help="a database URL to wipe and use")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    run(scales, None, args.samples)
    if args.postgres:
        run(scales, args.postgres, args.samples)


if __name__ == "__main__":
    main()
