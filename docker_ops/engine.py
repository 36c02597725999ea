"""One Docker host and the single choke point every SDK call goes through."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import docker
import docker.tls

from docker_ops.errors import DockerOpsError, HostUnreachableError, from_sdk

logger = logging.getLogger(__name__)

T = TypeVar("T")

API_VERSION = "1.41"  # pinned: the SDK would otherwise ask the daemon at construction


@dataclass(frozen=True)
class HostConn:
    name: str
    docker_url: str
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    timeout: float = 30


@dataclass(frozen=True)
class HostInfo:
    server_version: str
    labels: dict[str, str]
    ncpu: int
    mem_total: int


def _tls_config(conn: HostConn) -> docker.tls.TLSConfig | None:
    if not (conn.tls_ca or conn.tls_cert):
        return None
    client_cert = (conn.tls_cert, conn.tls_key) if conn.tls_cert else None
    return docker.tls.TLSConfig(client_cert=client_cert, ca_cert=conn.tls_ca, verify=True)


def make_client(conn: HostConn, timeout: float) -> docker.DockerClient:
    """Build a client that ignores the process environment.

    With `trust_env` on, requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the
    host's CA (every TLS verify then fails) and would route tcp:// hosts via HTTP(S)_PROXY.
    """
    client = docker.DockerClient(
        base_url=conn.docker_url, version=API_VERSION, timeout=timeout,
        tls=_tls_config(conn) or False,
    )
    client.api.trust_env = False
    return client


def parse_labels(raw: list[str] | dict[str, str] | None) -> dict[str, str]:
    if isinstance(raw, dict):
        return dict(raw)
    labels: dict[str, str] = {}
    for item in raw or []:
        key, _, value = item.partition("=")
        labels[key] = value
    return labels


class Engine:
    """Docker on one GPU server. Clients are created lazily, one per timeout."""

    def __init__(self, conn: HostConn) -> None:
        self.conn = conn
        self._clients: dict[float, docker.DockerClient] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.conn.name

    def _client(self, timeout: float | None) -> docker.DockerClient:
        key = timeout or self.conn.timeout
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = make_client(self.conn, key)
            return client

    async def call(
        self, op: str, fn: Callable[[docker.DockerClient], T], *, timeout: float | None = None
    ) -> T:
        """Run `fn(client)` off the event loop; SDK errors come out as DockerOpsError.

        `timeout` widens the per-read HTTP timeout for slow calls (commit, pull).
        """
        logger.debug("docker %s on %s", op, self.name)
        try:
            return await asyncio.to_thread(lambda: fn(self._client(timeout)))
        except DockerOpsError:
            raise
        except Exception as exc:
            mapped = from_sdk(exc, self.name)
            if mapped is None:
                raise
            logger.debug("docker %s on %s failed: %s", op, self.name, mapped.message)
            raise mapped from exc

    async def ping(self) -> HostInfo:
        info = await self.call("info", lambda c: c.info())
        if not isinstance(info, dict) or "ServerVersion" not in info:
            raise HostUnreachableError(f"host {self.name} answered, but not like Docker")
        return HostInfo(
            server_version=str(info["ServerVersion"]),
            labels=parse_labels(info.get("Labels")),
            ncpu=int(info.get("NCPU") or 0),
            mem_total=int(info.get("MemTotal") or 0),
        )

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
