"""Memory and start: ``gpurent run`` as its own process on a database with 1,000 live rentals
(20,000 over the years, 250 hosts), against the bare echo bot process (benchmarks/echo_bot.py)
started the same way.

Start: from the process's spawn to its first ``getUpdates`` at the emulator. Memory: resident
size (VmRSS) and its peak (VmHWM) once it has answered /start and run its first tick.

    .venv/bin/python -m benchmarks.footprint [--live 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import scale_seed
from models.db import close_database, open_database
from tests.botemu import BotApiEmulator

TOKEN = "424242:BENCH-gpurent-token"
SETTLE_S = 4.0  # the first tick runs a second after start; give it time to finish


@dataclass
class Footprint:
    label: str
    start_s: float
    rss_mb: float
    peak_mb: float

    def row(self) -> str:
        return (f"| {self.label} | {self.start_s:.2f} s | {self.rss_mb:.0f} MB | "
                f"{self.peak_mb:.0f} MB |")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_config(path: Path, emu: BotApiEmulator, db: Path) -> Path:
    hosts = "".join(
        f'[[hosts]]\nname = "g{i:03d}"\ndocker_url = "unix:///nonexistent/g{i:03d}.sock"\n'
        f'public_address = "10.1.{i // 250}.{i % 250}"\n'
        f'gpus = [{", ".join(repr(str(g)) for g in range(scale_seed.GPUS_PER_HOST))}]\n\n'
        for i in range(scale_seed.HOSTS))
    path.write_text(
        f'[telegram]\ntoken_env = "GPURENT_BENCH_TOKEN"\napi_base_url = "{emu.base_url}"\n'
        f'api_file_url = "{emu.base_file_url}"\nadmins = [{scale_seed.ADMIN}]\n\n'
        f'[database]\nurl = "sqlite:///{db}"\n\n' + hosts.replace("'", '"'), encoding="utf-8")
    return path


def seed_database(db: Path, live: int) -> None:
    open_database(f"sqlite:///{db}")
    try:
        scale_seed.seed(live * 20, 200_000)  # 5 % of the rentals run: ``live`` of them
    finally:
        close_database()


async def _measure(label: str, argv: list[str], emu: BotApiEmulator, uid: int) -> Footprint:
    env = {**os.environ, "GPURENT_BENCH_TOKEN": TOKEN}
    emu.calls.clear()
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        while not any(m.lower() == "getupdates" for m, _ in emu.calls):
            if proc.returncode is not None or time.perf_counter() - t0 > 120:
                raise RuntimeError(f"{label} never polled")
            await asyncio.sleep(0.005)
        started = time.perf_counter() - t0
        user = emu.user(id=uid, first_name="Mem", language_code="en")
        await user.send("/start")
        await user.wait_message(timeout=60)
        await asyncio.sleep(SETTLE_S)
        return Footprint(label, started, _status_mb(proc.pid, "VmRSS"),
                         _status_mb(proc.pid, "VmHWM"))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), timeout=30)
        except TimeoutError:
            proc.kill()


async def _both(config_dir: Path, live: int) -> list[Footprint]:
    db = config_dir / "gpurent.db"
    seed_database(db, live)
    async with BotApiEmulator(token=TOKEN) as emu:
        admin = emu.user(id=scale_seed.ADMIN, first_name="Boss", language_code="en")
        await admin.send("/start")  # the admin chat exists, as it would
        config = write_config(config_dir / "lab.toml", emu, db)
        echo = await _measure("bare PTB echo bot", [sys.executable, "-m", "benchmarks.echo_bot",
                                                    emu.base_url], emu, 31_001)
        bot = await _measure(f"gpurent run, {live:,} live rentals, {scale_seed.HOSTS} hosts",
                             [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
                             emu, 31_002)
    return [echo, bot]


def run(live: int = 1000) -> list[str]:
    lines = ["| process | start → first getUpdates | resident (VmRSS) | peak (VmHWM) |",
             "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for fig in asyncio.run(_both(Path(tmp), live)):
            lines.append(fig.row())
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--live", type=int, default=1000)
    run(parser.parse_args().live)


if __name__ == "__main__":
    main()
