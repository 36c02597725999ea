"""Approve press → credentials message, through the whole product, against the same container
work done with bare Docker SDK calls. Runs on the test rig (root, Debian's docker.io); only one
rig per machine, so take the shared lock first:

    flock /tmp/gpurent-rig.lock .venv/bin/python -m benchmarks.provision_latency [--runs 20]

Prints median and p95 of each, and where the product's time goes (the container verbs and the
Bot API calls of the first runs, as offsets from the press); docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import docker

from bot.clock import FrozenClock
from docker_ops.containers import DEFAULT_ULIMITS, ContainerSpec, create_kwargs
from models.db import close_database, open_database
from tests.botemu import BotApiEmulator
from tests.e2e.harness import TOKEN, Harness, approve_next, release_via_chat, request_rental
from tests.e2e.harness import rig_config as make_config
from tests.rig.rig import Rig

IMAGE = "nvcr.io/nvidia/pytorch:20.12-py3"


class Phases:
    """Offsets (from the Approve press) at which the runtime's verbs and the notifier's calls
    started and ended, per run: where the time between press and credentials goes."""

    def __init__(self) -> None:
        self.t0 = 0.0
        self.runs: list[list[tuple[str, float, float]]] = []

    def wrap(self, target: Any, names: tuple[str, ...]) -> None:
        for name in names:
            original = getattr(target, name)

            async def timed(*args: Any, _f: Any = original, _n: str = name, **kw: Any) -> Any:
                start = time.perf_counter() - self.t0
                try:
                    return await _f(*args, **kw)
                finally:
                    if self.runs:
                        self.runs[-1].append((_n, start, time.perf_counter() - self.t0))
            setattr(target, name, timed)

    def begin(self) -> None:
        self.t0 = time.perf_counter()
        self.runs.append([])

    def summary(self) -> list[str]:
        """Median start and end of each step over the runs, in start order."""
        steps: dict[str, list[tuple[float, float]]] = {}
        for run in self.runs:
            for name, start, end in run:
                if start < 10:  # the first occurrence within the press's work
                    steps.setdefault(name, []).append((start, end))
        rows = sorted(((statistics.median(s for s, _ in v), statistics.median(e for _, e in v),
                        n, len(v)) for n, v in steps.items()))
        return [f"| {n} | {s * 1000:.0f} ms | {e * 1000:.0f} ms | {c} |" for s, e, n, c in rows]


RUNTIME_VERBS = ("ensure_image", "pull_pinned", "run", "programs", "set_root_password",
                 "wait_ready", "published_ports", "add_ssh_key", "lock_password")
NOTIFIER_CALLS = ("send", "send_photo", "edit", "delete")


async def through_the_bot(rig: Rig, runs: int, phases: Phases | None = None) -> list[float]:
    os.environ["GPURENT_TEST_TOKEN"] = TOKEN
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        open_database(url)
        async with BotApiEmulator(token=TOKEN) as emu:
            h = Harness(rig=rig, emu=emu, config=make_config(rig, emu, url),
                        clock=FrozenClock(datetime.now(UTC)))
            await h.start()
            if phases is not None:
                phases.wrap(h.services.runtime, RUNTIME_VERBS)
                phases.wrap(h.services.notifier, NOTIFIER_CALLS)
            boss, _ = await h.admins()
            for i in range(runs):
                student = await h.user(5000 + i, f"B{i}", "en")
                submitted = await request_rental(student, unit="hour", quantity=1)
                ref = submitted.text.split()[2]
                t0 = time.perf_counter()
                if phases is not None:
                    phases.begin()
                await approve_next(boss, ref)
                await student.wait_message(contains="ssh root@", timeout=60)
                timings.append(time.perf_counter() - t0)
                await release_via_chat(student, ref)
                await h.settle()
            await h.stop()
        close_database()
    return timings


def _banner(address: str, port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1) as conn:
                if conn.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError("sshd never answered")


def _http(address: str, port: int, deadline: float) -> None:
    """Jupyter (the test image's stand-in) answers an HTTP request."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                if conn.recv(5).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError("Jupyter never answered")


def _chpasswd(client: docker.DockerClient, cid: str, password: str) -> None:
    exec_id = client.api.exec_create(cid, ["chpasswd"], stdin=True)["Id"]
    sock = client.api.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    raw.sendall(f"root:{password}\n".encode())
    raw.shutdown(socket.SHUT_WR)
    while raw.recv(4096):
        pass
    raw.close()
    assert client.api.exec_inspect(exec_id)["ExitCode"] == 0


def bare_sdk(rig: Rig, runs: int) -> tuple[list[float], list[float]]:
    """The same container the product makes (image, limits of the rig's config for one GPU),
    by bare SDK calls: (until the SSH banner, until Jupyter answers as well)."""
    engine = rig.engine("HPC1")
    client = engine.client()
    limit = DEFAULT_ULIMITS | {"memlock": (8388608, 8388608)}
    ssh, both = [], []
    for i in range(runs):
        spec = ContainerSpec(name=f"bench-{i}", image=IMAGE, hostname="bench", labels={},
                             gpu_ids=["0"], ports={22: 23000, 8888: 23001},
                             workspace_dir=str(engine.workspace_root / "bench"),
                             env={"JUPYTER_TOKEN": "x"}, ulimits=limit, shm_size="64m",
                             mem_limit="512m", nano_cpus=500_000_000)
        t0 = time.perf_counter()
        container = client.containers.create(**create_kwargs(spec))
        container.start()
        _chpasswd(client, container.id, f"Bench-{i}-password")
        _banner(engine.address, 23000, time.monotonic() + 60)
        ssh.append(time.perf_counter() - t0)
        _http(engine.address, 23001, time.monotonic() + 60)
        both.append(time.perf_counter() - t0)
        container.remove(force=True)
    return ssh, both


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def run(runs: int) -> list[str]:
    rig = Rig()
    rig.start()
    phases = Phases()
    try:
        bot = asyncio.run(through_the_bot(rig, runs, phases))
        rig.reset()
        sdk, sdk_jupyter = bare_sdk(rig, runs)
    finally:
        rig.stop()
    lines = ["| path | median | p95 | min | max | n |", "|---|---|---|---|---|---|"]
    for label, found in (("gpurent: Approve pressed → credentials message arrives", bot),
                         ("bare SDK: create + start + chpasswd + SSH banner", sdk),
                         ("bare SDK, and Jupyter answering too (as gpurent waits)",
                          sdk_jupyter)):
        lines.append(f"| {label} | {statistics.median(found):.2f} s | {p95(found):.2f} s | "
                     f"{min(found):.2f} s | {max(found):.2f} s | {len(found)} |")
    lines.append("")
    for name, base in (("SSH banner", sdk), ("SSH and Jupyter", sdk_jupyter)):
        ratio = statistics.median(bot) / statistics.median(base)
        extra = statistics.median(bot) - statistics.median(base)
        lines.append(f"Median ratio against the bare SDK to the {name}: {ratio:.2f}×, "
                     f"{extra * 1000:+.0f} ms (target: at most 1.2× and +300 ms)")
    lines.append("")
    lines += ["| step (product, per run) | median start | median end | runs |",
              "|---|---|---|---|", *phases.summary()]
    for line in lines:
        print(line, flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    run(parser.parse_args().runs)


if __name__ == "__main__":
    main()
