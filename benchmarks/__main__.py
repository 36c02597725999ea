"""Every benchmark in one command, each beside its bare baseline in the same run:

    .venv/bin/python -m benchmarks [--out benchmarks/results.md] [--no-rig] [--postgres URL]

1. scheduler at scale (SQLite at 100 / 1,000 / 10,000 rentals, PostgreSQL at 10,000),
2. chat throughput (200 students at once, and 50 rate limited),
3. memory and start of ``gpurent run`` with 1,000 live rentals,
4. provisioning on the test rig (under ``flock /tmp/gpurent-rig.lock``; skipped by --no-rig).

Without --postgres a throwaway server is started (``scripts/test-postgres.sh`` in a directory
of its own) and stopped again. The figures, with the machine they ran on, go to --out;
docs/benchmarks.md keeps the ones the project quotes. About 12 minutes on 2 cores
(10.6 without the rig).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import peewee
import telegram

from benchmarks import chat, footprint, scheduler

ROOT = Path(__file__).resolve().parent.parent
PG_DIR = "/tmp/gpurent-bench-pg"  # not the test suite's: a running test keeps its server
RIG_LOCK = "/tmp/gpurent-rig.lock"


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    osname = next((line.split("=", 1)[1].strip('"') for line in
                   Path("/etc/os-release").read_text().splitlines()
                   if line.startswith("PRETTY_NAME")), platform.platform())
    return [f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- machine: {osname}, {os.cpu_count()} cores ({cpu}), "
            f"{int(mem) / 1024 / 1024:.0f} GiB memory, load average at start "
            f"{os.getloadavg()[0]:.1f}",
            f"- software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"peewee {getattr(peewee, '__version__', '?')}, "
            f"python-telegram-bot {telegram.__version__}"]


def _postgres(url: str | None) -> tuple[str | None, bool]:
    """(URL, whether we started it)."""
    if url:
        return url, False
    try:
        out = subprocess.run([str(ROOT / "scripts/test-postgres.sh"), "start"], check=True,
                             capture_output=True, text=True, env={**os.environ,
                                                                  "GPURENT_TEST_PG_DIR": PG_DIR})
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"no PostgreSQL: {exc}", file=sys.stderr)
        return None, False
    return out.stdout.strip().splitlines()[-1], True


def _provisioning(runs: int) -> list[str]:
    cmd = ["flock", RIG_LOCK, sys.executable, "-m", "benchmarks.provision_latency",
           "--runs", str(runs)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(("|", "Median"))]
    if done.returncode != 0:
        lines.append(f"provisioning benchmark failed: {done.stderr.strip()[-500:]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.md"))
    parser.add_argument("--postgres", default=None, help="a database URL to wipe and use")
    parser.add_argument("--no-rig", action="store_true", help="skip provisioning (no Docker)")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20, help="provisioning runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the emulator's refusals are expected noise
    t0 = time.monotonic()
    out = ["# Benchmark run", "", *machine(), ""]
    pg, started = _postgres(args.postgres)
    try:
        out += ["## Scheduler: one tick", ""]
        out += scheduler.run([100, 1_000, 10_000], None)
        if pg:
            out += scheduler.run([10_000], pg)[2:]
    finally:
        if started:
            subprocess.run([str(ROOT / "scripts/test-postgres.sh"), "stop"], check=False,
                           env={**os.environ, "GPURENT_TEST_PG_DIR": PG_DIR})
    out += ["", "## Chat throughput: the whole /request", "", *chat.run(args.students)]
    out += ["", "## Memory and start", "", *footprint.run(1000)]
    if not args.no_rig:
        out += ["", "## Provisioning: Approve → credentials", "", *_provisioning(args.runs)]
    out += ["", f"All of it took {(time.monotonic() - t0) / 60:.1f} min."]
    Path(args.out).write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
