"""Approve press → credentials message, through the whole product, against the same container
work done with bare Docker SDK calls. Runs on the test rig (root, Debian's docker.io):

    .venv/bin/python -m benchmarks.provision_latency [--runs 10]

Prints medians; docs/benchmarks.md records the figures.
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

import docker

from bot.clock import FrozenClock
from docker_ops.containers import DEFAULT_ULIMITS, ContainerSpec, create_kwargs
from models.db import close_database, open_database
from tests.botemu import BotApiEmulator
from tests.e2e.harness import TOKEN, Harness, approve_next, release_via_chat, request_rental
from tests.e2e.harness import rig_config as make_config
from tests.rig.rig import Rig

IMAGE = "nvcr.io/nvidia/pytorch:20.12-py3"


async def through_the_bot(rig: Rig, runs: int) -> list[float]:
    os.environ["GPURENT_TEST_TOKEN"] = TOKEN
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        open_database(url)
        async with BotApiEmulator(token=TOKEN) as emu:
            h = Harness(rig=rig, emu=emu, config=make_config(rig, emu, url),
                        clock=FrozenClock(datetime.now(UTC)))
            await h.start()
            boss, _ = await h.admins()
            for i in range(runs):
                student = await h.user(5000 + i, f"B{i}", "en")
                submitted = await request_rental(student, unit="hour", quantity=1)
                ref = submitted.text.split()[2]
                t0 = time.perf_counter()
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


def bare_sdk(rig: Rig, runs: int) -> list[float]:
    engine = rig.engine("HPC1")
    client = engine.client()
    limit = DEFAULT_ULIMITS | {"memlock": (8388608, 8388608)}
    timings = []
    for i in range(runs):
        spec = ContainerSpec(name=f"bench-{i}", image=IMAGE, hostname="bench", labels={},
                             gpu_ids=["0"], ports={22: 23000, 8888: 23001},
                             workspace_dir=str(engine.workspace_root / "bench"),
                             env={"JUPYTER_TOKEN": "x"}, ulimits=limit)
        t0 = time.perf_counter()
        container = client.containers.create(**create_kwargs(spec))
        container.start()
        _chpasswd(client, container.id, f"Bench-{i}-password")
        _banner(engine.address, 23000, time.monotonic() + 60)
        timings.append(time.perf_counter() - t0)
        container.remove(force=True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    rig = Rig()
    rig.start()
    try:
        bot = asyncio.run(through_the_bot(rig, args.runs))
        rig.reset()
        sdk = bare_sdk(rig, args.runs)
    finally:
        rig.stop()
    print(f"approve -> credentials via the bot: median {statistics.median(bot):.2f} s "
          f"(min {min(bot):.2f}, max {max(bot):.2f}, n={len(bot)})")
    print(f"bare SDK create+start+chpasswd+ssh banner: median {statistics.median(sdk):.2f} s "
          f"(min {min(sdk):.2f}, max {max(sdk):.2f}, n={len(sdk)})")


if __name__ == "__main__":
    main()
