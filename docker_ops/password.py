"""Set root's password, and hand Jupyter its token, through `docker exec` stdin.

Both travel only on the exec's stdin: never on a command line, in the container's
environment (which `docker inspect` and a commit's config show), or in a log line.
`container.exec_run(stdin=True)` hangs forever, so this uses the low-level exec API and
half-closes the hijacked socket itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from typing import Any

import docker

from docker_ops.engine import Engine
from docker_ops.entry import TOKEN_DIR, TOKEN_FILE
from docker_ops.errors import ContainerStartError

logger = logging.getLogger(__name__)

ATTEMPTS = 5
RETRY_DELAY = 0.4
EXIT_WAIT = 5.0
NOT_FOUND_EXIT = (126, 127)  # chpasswd missing or not executable


def _close_write(sock: Any) -> bool:
    """Signal EOF on the exec's stdin; False when the stream cannot be read any further."""
    if hasattr(sock, "shutdown_write"):  # paramiko channel (ssh:// hosts)
        sock.shutdown_write()
        return True
    raw = getattr(sock, "_sock", sock)  # SocketIO wraps the socket on unix/tcp
    if isinstance(raw, ssl.SSLSocket):
        # A TLS half-close is a close_notify. unwrap() sends it and returns on the daemon's
        # own close_notify (the exec is done) or fails on output we do not need; either
        # way the TLS stream is over, and the daemon may keep TCP open: do not drain.
        with contextlib.suppress(OSError, ValueError):
            raw.unwrap()
        return False
    raw.shutdown(socket.SHUT_WR)
    return True


def _send_and_drain(sock: Any, payload: bytes, timeout: float) -> None:
    raw = getattr(sock, "_sock", sock)
    if hasattr(raw, "settimeout"):
        raw.settimeout(timeout)
    try:
        raw.sendall(payload)
        if _close_write(sock):
            while raw.recv(4096):
                pass
    except (OSError, ValueError):
        pass  # the stream ending badly is fine; exec_inspect has the verdict
    finally:
        sock.close()


def _exit_code(client: docker.DockerClient, exec_id: str) -> int | None:
    deadline = time.monotonic() + EXIT_WAIT
    while True:
        info = client.api.exec_inspect(exec_id)
        if not info.get("Running") and info.get("ExitCode") is not None:
            return int(info["ExitCode"])
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def _feed(client: docker.DockerClient, cid: str, argv: list[str], payload: bytes,
          timeout: float) -> int | None:
    exec_id = client.api.exec_create(cid, argv, stdin=True, user="root")["Id"]
    sock = client.api.exec_start(exec_id, socket=True)
    _send_and_drain(sock, payload, timeout)
    return _exit_code(client, exec_id)


def _chpasswd(client: docker.DockerClient, cid: str, password: str, timeout: float) -> int | None:
    return _feed(client, cid, ["chpasswd"], f"root:{password}\n".encode(), timeout)


# Our own words, no input: the token comes on stdin. Written beside and renamed, so the entry
# script never reads half a token.
_WRITE_TOKEN = (f"umask 077 && mkdir -p {TOKEN_DIR} && chmod 0700 {TOKEN_DIR} && "
                f"cat > {TOKEN_FILE}.new && mv -f {TOKEN_FILE}.new {TOKEN_FILE}")


async def set_jupyter_token(engine: Engine, cid: str, token: str) -> None:
    """Write the Jupyter token to a file only root in the container can read; the entry
    script starts Jupyter once it is there."""
    if not token or any(ch in token for ch in "\n\r\0"):
        raise ValueError("the token must be non-empty and on one line")
    code: int | None = None
    for _attempt in range(ATTEMPTS):
        code = await engine.call("jupyter token", lambda c: _feed(
            c, cid, ["/bin/sh", "-c", _WRITE_TOKEN], token.encode(), engine.conn.timeout))
        if code == 0:
            return
        await asyncio.sleep(RETRY_DELAY)
    raise ContainerStartError(f"could not hand Jupyter its token in the container on "
                              f"{engine.name} (exit code {code})")


async def set_root_password(engine: Engine, cid: str, password: str) -> None:
    """Run `chpasswd` in the container; retries briefly while the container settles."""
    if not password or any(ch in password for ch in "\n\r\0"):
        raise ValueError("the password must be non-empty and on one line")
    code: int | None = None
    for attempt in range(1, ATTEMPTS + 1):
        code = await engine.call(
            "chpasswd", lambda c: _chpasswd(c, cid, password, engine.conn.timeout)
        )
        if code == 0:
            logger.info("root password set in %s on %s", cid[:12], engine.name)
            return
        if code in NOT_FOUND_EXIT:
            raise ContainerStartError(
                f"the image has no usable chpasswd, so no root password can be set ({engine.name})"
            )
        logger.debug("chpasswd attempt %d in %s exited %s", attempt, cid[:12], code)
        await asyncio.sleep(RETRY_DELAY)
    raise ContainerStartError(
        f"could not set the root password in the container on {engine.name}"
        f" (chpasswd exit code {code})"
    )
