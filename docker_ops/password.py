"""Set root's password through `docker exec` stdin, and hand Jupyter its token as a file.

Neither goes on a command line, in the container's environment (which `docker inspect` and a
commit's config show), or in a log line: the password travels on the exec's stdin, the token
in an archive put into the container before it starts.
`container.exec_run(stdin=True)` hangs forever, so this uses the low-level exec API and
half-closes the hijacked socket itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import ssl
import tarfile
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


def _exit_code(client: docker.DockerClient, exec_id: str, wait: float = EXIT_WAIT) -> int | None:
    """The exec's exit code once it has ended; None while it still runs after ``wait``."""
    deadline = time.monotonic() + wait
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


def token_archive(token: str) -> bytes:
    """A tar for ``put_archive`` into /etc: ``gpurent/`` (0700) holding ``jupyter-token``
    (0600), both root's."""
    if not token or any(ch in token for ch in "\n\r\0"):
        raise ValueError("the token must be non-empty and on one line")
    data, out = token.encode(), io.BytesIO()
    folder = TOKEN_FILE.rsplit("/", 2)[-2]
    with tarfile.open(fileobj=out, mode="w") as tar:
        entry = tarfile.TarInfo(folder)
        entry.type, entry.mode = tarfile.DIRTYPE, 0o700
        tar.addfile(entry)
        entry = tarfile.TarInfo(f"{folder}/{TOKEN_FILE.rsplit('/', 1)[-1]}")
        entry.size, entry.mode = len(data), 0o600
        tar.addfile(entry, io.BytesIO(data))
    return out.getvalue()


async def put_jupyter_token(engine: Engine, cid: str, token: str) -> None:
    """Write the Jupyter token into the created, not yet started, container: a file only root
    can read, there before the entry script looks (a revival's commit may hold an older one)
    and never in the environment, the config or a log."""
    archive = token_archive(token)
    done = await engine.call("jupyter token",
                             lambda c: c.api.put_archive(cid, TOKEN_DIR.rsplit("/", 1)[0] or "/",
                                                         archive))
    if not done:
        raise ContainerStartError(f"could not hand Jupyter its token on {engine.name}")


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
