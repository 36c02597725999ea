"""Decide when a freshly started container can be handed to its student.

docker-proxy accepts a TCP connection on a published port before anything listens inside the
container, then resets it; a successful connect() proves nothing. Ready means sshd's `SSH-`
banner was read and, when Jupyter is expected, an HTTP status line came back.
"""

from __future__ import annotations

import asyncio
import logging
import time

from docker_ops.engine import Engine
from docker_ops.errors import NotReadyError

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.05  # loopback/LAN probes are cheap; each 0.2 s of slack was the student's
PROBE_TIMEOUT = 3.0


async def _read_first_line(address: str, port: int, request: bytes | None) -> bytes:
    reader, writer = await asyncio.open_connection(address, port)
    try:
        if request:
            writer.write(request)
            await writer.drain()
        return await reader.readline()
    finally:
        writer.close()


async def _probe(
    address: str, port: int, request: bytes | None, expect: bytes, timeout: float
) -> bool:
    try:
        line = await asyncio.wait_for(_read_first_line(address, port, request), timeout)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    return line.startswith(expect)


async def ssh_answers(address: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    return await _probe(address, port, None, b"SSH-", timeout)


async def http_answers(address: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    request = f"GET / HTTP/1.0\r\nHost: {address}:{port}\r\n\r\n".encode()
    return await _probe(address, port, request, b"HTTP/", timeout)


async def _wait_for(check: str, address: str, port: int, deadline: float) -> bool:
    probe = ssh_answers if check == "SSH" else http_answers
    while True:
        left = deadline - time.monotonic()
        if await probe(address, port, max(0.1, min(PROBE_TIMEOUT, left))):
            return True
        if time.monotonic() + POLL_INTERVAL > deadline:
            return False
        await asyncio.sleep(POLL_INTERVAL)


async def wait_ready(
    engine: Engine, address: str, ssh_port: int, jupyter_port: int | None, timeout: float
) -> None:
    """Return once SSH (and Jupyter, if given) answer; NotReadyError past `timeout`."""
    deadline = time.monotonic() + timeout
    checks = [("SSH", ssh_port)] + ([("Jupyter", jupyter_port)] if jupyter_port else [])
    results = await asyncio.gather(
        *(_wait_for(what, address, port, deadline) for what, port in checks)
    )
    failed = [
        f"{what} on {address}:{port}"
        for (what, port), ok in zip(checks, results, strict=True)
        if not ok
    ]
    if failed:
        raise NotReadyError(
            f"{' and '.join(failed)} did not answer within {timeout:.0f} s on {engine.name}"
        )
    logger.debug("container on %s ready at %s:%d", engine.name, address, ssh_port)
