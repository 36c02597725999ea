"""Image references, the registry allow-list, and pulls with progress."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import docker
import docker.errors

from docker_ops.engine import Engine
from docker_ops.errors import ImagePullError
from docker_ops.imageref import ImageRef, parse_image_ref, registry_allowed

logger = logging.getLogger(__name__)

__all__ = [
    "ImageRef",
    "PullProgress",
    "ensure_image",
    "image_present",
    "parse_image_ref",
    "pull",
    "pull_pinned",
    "registry_allowed",
]

Progress = Callable[[int, int], None]

PULL_TIMEOUT = 600.0  # per read: big layers extract for minutes between events

_PERMANENT_PULL = ("manifest unknown", "not found", "invalid reference", "unauthorized",
                   "denied", "does not exist", "no matching manifest")


class PullProgress:
    """Folds a pull's per-layer events into (done_bytes, total_bytes) of the downloads."""

    def __init__(self) -> None:
        self._layers: dict[str, tuple[int, int]] = {}
        self._last: tuple[int, int] = (0, 0)

    @property
    def current(self) -> tuple[int, int]:
        return self._last

    def feed(self, event: dict[str, Any]) -> tuple[int, int] | None:
        """Account for one stream event; returns the new totals when they changed."""
        layer, status = event.get("id"), event.get("status") or ""
        detail = event.get("progressDetail") or {}
        if not layer:
            return None
        if status == "Downloading" and detail.get("total"):
            total = int(detail["total"])
            self._layers[layer] = (min(int(detail.get("current") or 0), total), total)
        elif status in ("Download complete", "Pull complete") and layer in self._layers:
            total = self._layers[layer][1]
            self._layers[layer] = (total, total)
        else:
            return None
        return self._update()

    def finish(self) -> tuple[int, int]:
        """The stream ended cleanly: every layer is fully there."""
        total = sum(t for _, t in self._layers.values())
        self._last = (total, total)
        return self._last

    def _update(self) -> tuple[int, int] | None:
        now = (sum(d for d, _ in self._layers.values()), sum(t for _, t in self._layers.values()))
        if now == self._last:
            return None
        self._last = now
        return now


def pull_error(ref: str, message: str, status_code: int | None = None) -> ImagePullError:
    lowered = message.lower()
    permanent = any(marker in lowered for marker in _PERMANENT_PULL)
    transient = not permanent and (status_code is None or status_code >= 500)
    logger.info("pull of %s failed (%s): %s", ref, "transient" if transient else "permanent",
                message)
    return ImagePullError(f"could not pull {ref}: {message}", transient=transient)


_DIGEST_EVENT = re.compile(r"Digest: (sha256:[0-9a-f]{64})")


def _pull(client: docker.DockerClient, ref: ImageRef, on_progress: Progress | None) -> str:
    """Pull; returns the manifest digest the registry answered with ("" if it named none)."""
    progress, digest = PullProgress(), ""
    try:
        stream = client.api.pull(ref.name, tag=ref.digest or ref.tag, stream=True, decode=True)
        for event in stream:
            if event.get("error"):
                raise pull_error(str(ref), str(event["error"]))
            found = _DIGEST_EVENT.match(str(event.get("status") or ""))
            digest = found.group(1) if found else digest
            changed = progress.feed(event)
            if changed and on_progress:
                on_progress(*changed)
    except docker.errors.APIError as exc:
        raise pull_error(str(ref), str(exc.explanation or exc), exc.status_code) from exc
    if on_progress:
        on_progress(*progress.finish())
    return digest


def _parse_for_pull(ref: str) -> ImageRef:
    try:
        return parse_image_ref(ref)
    except ValueError as exc:
        raise ImagePullError(f"'{ref}' is not a valid image reference: {exc}") from exc


async def pull(engine: Engine, ref: str, on_progress: Progress | None = None) -> None:
    """Pull `ref`; `on_progress(done, total)` is called from a worker thread."""
    parsed = _parse_for_pull(ref)
    await engine.call("pull", lambda c: _pull(c, parsed, on_progress), timeout=PULL_TIMEOUT)
    logger.info("pulled %s on %s", parsed, engine.name)


async def pull_pinned(engine: Engine, ref: str, on_progress: Progress | None = None) -> str:
    """Pull ``ref`` from its registry whatever the host has, and return ``name@sha256:…``: the
    digest just pulled, so the container runs exactly that, never a local image that merely
    carries the name (such as one another rental made)."""
    parsed = _parse_for_pull(ref)
    digest = await engine.call("pull", lambda c: _pull(c, parsed, on_progress),
                               timeout=PULL_TIMEOUT)
    digest = digest or parsed.digest or ""
    if not digest:
        raise ImagePullError(f"the registry named no digest for {parsed}", transient=True)
    logger.info("pulled %s on %s as %s", parsed, engine.name, digest)
    return f"{parsed.name}@{digest}"


def _present(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


async def image_present(engine: Engine, ref: str) -> bool:
    return await engine.call("inspect_image", lambda c: _present(c, ref))


async def ensure_image(engine: Engine, ref: str, on_progress: Progress | None = None) -> bool:
    """Pull `ref` unless the host has it; True when a pull happened."""
    if await image_present(engine, ref):
        return False
    await pull(engine, ref, on_progress)
    return True


def _remove_repository(client: docker.DockerClient, repository: str) -> int:
    removed = 0
    for image in client.images.list(name=repository):
        for tag in image.tags:
            try:
                client.api.remove_image(tag)
                removed += 1
            except docker.errors.NotFound:
                continue  # already gone
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # 409: still used by a container; keep it
                    raise
                logger.info("image %s still in use; kept", tag)
    return removed


async def remove_repository(engine: Engine, repository: str) -> int:
    """Remove every tag of ``repository`` (e.g. a rental's revival images); returns how many."""
    return await engine.call("remove images", lambda c: _remove_repository(c, repository))
