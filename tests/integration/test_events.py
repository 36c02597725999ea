"""docker_ops.events against a real engine of the test rig: a death streams in as it happens,
and cancelling a window (the bot stopping) ends the SDK's reading thread at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

import docker_ops as ops
from docker_ops import events

pytestmark = pytest.mark.rig

IMAGE = "gpurent/test-base:latest"


async def test_a_death_streams_in_and_a_cancelled_window_frees_its_thread(clean_rig: Any) -> None:
    rig_engine = clean_rig.engines[0]
    engine = ops.Engine(ops.HostConn(rig_engine.name, rig_engine.docker_url, timeout=30))
    client = rig_engine.client()
    try:
        since = await events.daemon_time(engine)
        seen: list[events.ContainerEvent] = []
        window = asyncio.create_task(events.window(engine, since, seen.append, seconds=30))
        box = client.containers.run(IMAGE, detach=True, name="gpurent-test-events",
                                    labels={events.LABEL: "7"})
        box.kill()
        # The window starts at a whole second of the daemon's clock: a container an earlier
        # test removed within that second may show up too; only ours is looked at.
        for _ in range(100):
            if any(e.cid == box.id for e in seen):
                break
            await asyncio.sleep(0.05)
        assert [(e.rental_id, e.action) for e in seen if e.cid == box.id] == [(7, "die")]

        stopped = time.monotonic()
        window.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await window
        # The loop's worker threads all end: none still reads the stream to the window's end.
        await asyncio.get_running_loop().shutdown_default_executor()
        assert time.monotonic() - stopped < 5
    finally:
        with contextlib.suppress(Exception):
            client.containers.get("gpurent-test-events").remove(force=True)
        client.close()
        engine.close()
