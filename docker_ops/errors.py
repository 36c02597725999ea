"""Our own exceptions for everything that can go wrong talking to a Docker host.

Callers never see docker-py or requests exceptions: `Engine.call` maps them here with
`from_sdk`. `transient` tells the caller whether trying again later can help.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import docker.errors
import requests.exceptions

_PORT_IN_USE = re.compile(r":(\d+): bind: address already in use")


class DockerOpsError(Exception):
    """Base class; `message` is plain words, safe to show an admin."""

    transient: bool = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if transient is not None:
            self.transient = transient


class HostUnreachableError(DockerOpsError):
    transient = True


class ImagePullError(DockerOpsError):
    transient = False


class PortInUseError(DockerOpsError):
    transient = True

    def __init__(self, port: int | None, message: str | None = None) -> None:
        self.port = port
        where = f"port {port}" if port is not None else "a requested port"
        super().__init__(message or f"{where} is already in use on the host")


class ContainerStartError(DockerOpsError):
    transient = False


class NameConflictError(ContainerStartError):
    """A container with the requested name already exists on the host."""


class ContainerNotRunningError(ContainerStartError):
    """The operation needs a running container (e.g. exec) and it is stopped."""


class NotReadyError(DockerOpsError):
    transient = True


class ContainerGoneError(DockerOpsError):
    transient = False


def _port_in_use(text: str, host: str) -> DockerOpsError:
    match = _PORT_IN_USE.search(text)
    return PortInUseError(int(match.group(1)) if match else None)


# (text in the daemon's explanation, status it must have or None, what it means); first wins.
_API_MESSAGES: list[tuple[str, int | None, Callable[[str, str], DockerOpsError]]] = [
    ("address already in use", None, _port_in_use),
    ("could not select device driver", None, lambda text, host: ContainerStartError(
        f"host {host} has no NVIDIA container runtime, so GPUs cannot be attached")),
    ("error running hook", None, lambda text, host: ContainerStartError(
        f"the GPU runtime on host {host} failed to attach the GPUs (driver or GPU fault)")),
    ("error setting rlimit", None, lambda text, host: ContainerStartError(
        f"host {host} does not allow the requested resource limits (ulimits)")),
    ("already in use by container", 409, lambda text, host: NameConflictError(
        f"a container with that name already exists on host {host}")),
    ("is not running", 409, lambda text, host: ContainerNotRunningError(
        f"the container on host {host} is not running")),
]


def _api_error(exc: docker.errors.APIError, host: str) -> DockerOpsError:
    text = str(exc.explanation or exc)
    for needle, status, make in _API_MESSAGES:
        if needle in text and status in (None, exc.status_code):
            return make(text, host)
    server_side = exc.status_code is None or exc.status_code >= 500
    return DockerOpsError(f"Docker on host {host} refused: {text}", transient=server_side)


def _unreachable(exc: BaseException, host: str) -> DockerOpsError:
    return HostUnreachableError(f"cannot reach Docker on host {host}")


def _client_error(exc: BaseException, host: str) -> DockerOpsError:
    if "Error while fetching server API version" in str(exc):
        return _unreachable(exc, host)
    return DockerOpsError(f"Docker client error for host {host}: {exc}")


def _tls_failed(exc: BaseException, host: str) -> DockerOpsError:
    return HostUnreachableError(
        f"TLS with Docker on host {host} failed; check its certificates", transient=False
    )


# First match wins, so subclasses come before their bases.
_MAPPING: list[tuple[type | tuple[type, ...], Callable[[Any, str], DockerOpsError]]] = [
    (requests.exceptions.SSLError, _tls_failed),
    ((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
      requests.exceptions.Timeout), _unreachable),
    (docker.errors.ImageNotFound,
     lambda exc, host: ImagePullError(f"the image is not present on host {host}")),
    (docker.errors.NotFound,
     lambda exc, host: ContainerGoneError(f"the container no longer exists on host {host}")),
    (docker.errors.APIError, _api_error),
    (docker.errors.DockerException, _client_error),
    # Raw sockets (exec streams) raise the builtin kinds, not requests' ones.
    ((TimeoutError, ConnectionError), _unreachable),
]


def from_sdk(exc: BaseException, host: str) -> DockerOpsError | None:
    """Map a docker-py / requests exception to ours; None when it is not one of theirs."""
    if isinstance(exc, DockerOpsError):
        return exc
    for kinds, make in _MAPPING:
        if isinstance(exc, kinds):
            return make(exc, host)
    return None
