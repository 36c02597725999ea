"""Building an image from a Dockerfile text on one engine (the admins' "prepare"): the build
log streams back line by line, the result is the image's size. Through ``Engine.call`` like
every other SDK call."""

from __future__ import annotations

import io
import logging
import tarfile
from collections.abc import Callable

import docker
import docker.errors

from docker_ops.engine import Engine
from docker_ops.errors import DockerOpsError

logger = logging.getLogger(__name__)

BUILD_TIMEOUT = 1800.0  # seconds per read: a package install may be silent for long
Log = Callable[[str], None]


class ImageBuildError(DockerOpsError):
    """The build failed (a step exited non-zero, the base image is missing)."""


def _context(dockerfile: str) -> io.BytesIO:
    """A tar with only the Dockerfile: nothing from the bot's machine goes into the image."""
    data = dockerfile.encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out.seek(0)
    return out


def _build(client: docker.DockerClient, dockerfile: str, tag: str, on_log: Log,
           network: str | None) -> int:
    try:
        stream = client.api.build(fileobj=_context(dockerfile), custom_context=True, tag=tag,
                                  rm=True, forcerm=True, decode=True, network_mode=network)
        for event in stream:
            if event.get("error"):
                raise ImageBuildError(f"build of {tag} failed: {event['error']}".strip())
            line = str(event.get("stream") or event.get("status") or "").rstrip()
            if line:
                on_log(line)
        return int(client.images.get(tag).attrs.get("Size") or 0)
    except docker.errors.BuildError as exc:
        raise ImageBuildError(f"build of {tag} failed: {exc.msg}") from exc
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"build of {tag} failed: {exc.explanation or exc}") from exc


async def build(engine: Engine, dockerfile: str, tag: str, on_log: Log,
                network: str | None = None) -> int:
    """Build ``tag``; ``on_log(line)`` is called from a worker thread. Returns the size."""
    size = await engine.call("build", lambda c: _build(c, dockerfile, tag, on_log, network),
                             timeout=BUILD_TIMEOUT)
    logger.info("built %s on %s (%d bytes)", tag, engine.name, size)
    return size
