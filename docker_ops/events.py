"""Our containers' deaths as they happen: each engine's event stream, read in short windows.

Each window is one ``Engine.call`` (the one choke point) that streams ``die`` and ``oom``
events of containers carrying our label from the daemon's own clock, up to ``until`` a few
seconds later, handing each event to the event loop the moment it arrives. The next window
starts where the last ended, so nothing falls between two; a window that fails (the engine
went away) is retried with backoff by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import docker

from docker_ops.engine import Engine

logger = logging.getLogger(__name__)

WINDOW_S = 15
LABEL = "gpurent.rental"


@dataclass(frozen=True)
class ContainerEvent:
    cid: str
    rental_id: int | None
    action: str  # die | oom
    exit_code: int | None


def parse(raw: dict[str, Any]) -> ContainerEvent | None:
    """Our event from the daemon's JSON; None for anything else."""
    action = str(raw.get("Action") or raw.get("status") or "")
    actor = raw.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    cid = str(actor.get("ID") or raw.get("id") or "")
    if action not in ("die", "oom") or not cid:
        return None
    label = str(attrs.get(LABEL, ""))
    code = str(attrs.get("exitCode", ""))
    return ContainerEvent(cid, int(label) if label.isascii() and label.isdigit() else None,
                          action, int(code) if code.isascii() and code.isdigit() else None)


async def daemon_time(engine: Engine) -> int:
    """The engine's clock (Unix seconds): windows are measured on it, not on ours."""
    info = await engine.call("info", lambda c: c.info())
    stamp = str(info.get("SystemTime", ""))
    return int(datetime.fromisoformat(stamp[:19] + "+00:00").timestamp()) if stamp else 0


def _read(client: docker.DockerClient, since: int, until: int,
          sink: Callable[[dict[str, Any]], None], opened: list[Any],
          stop: threading.Event) -> None:
    filters = {"type": "container", "event": ["die", "oom"], "label": LABEL}
    stream = client.events(since=since, until=until, filters=filters, decode=True)
    opened.append(stream)
    try:
        if stop.is_set():  # cancelled while the stream was being opened
            return
        for raw in stream:
            sink(raw)
    finally:
        stream.close()


async def window(engine: Engine, since: int, on_event: Callable[[ContainerEvent], None],
                 seconds: int = WINDOW_S) -> int:
    """Stream one window of events from ``since``; returns where the next one starts.

    Cancelling it (the bot stopping) closes the stream at once: the SDK's thread would
    otherwise read on to the window's end, and a stopping process waits for its threads."""
    loop = asyncio.get_running_loop()
    opened: list[Any] = []  # the stream, once the SDK's thread has opened it
    stop = threading.Event()

    def sink(raw: dict[str, Any]) -> None:  # in the SDK's thread
        event = parse(raw)
        if event is not None:
            loop.call_soon_threadsafe(on_event, event)

    until = since + seconds
    try:
        await engine.call("events", lambda c: _read(c, since, until, sink, opened, stop),
                          timeout=seconds + 30)
    except asyncio.CancelledError:
        stop.set()
        for stream in opened:
            with contextlib.suppress(Exception):  # closing a stream the thread is reading
                stream.close()
        raise
    return until
