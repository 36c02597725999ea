"""The workspace helper: a throwaway container that deletes or archives one student's
workspace on a host (the bot may run elsewhere, so the host's own engine does the work).

It runs the one image the admin chose (``[lifecycle] helper_image``, pinned by digest), never
a student's: an image of theirs could bring its own ``rm``. It sees only the directory it works
on (not the workspace root with every student's files), as root with a read-only root
filesystem, no network, ``no-new-privileges`` and only the capabilities its command needs:
reading and deleting files a student's processes left with any owner and mode
(``DAC_OVERRIDE``, plus ``FOWNER`` for sticky directories), and for an archive copy keeping
owners, modes and times (``CHOWN``, ``FOWNER``, ``FSETID``).

A directory that is mounted cannot remove itself, so deleting empties the workspace and leaves
the empty (0700) directory; an archive is a copy into ``<archive>/<name>-<stamp>`` followed by
that deletion (across two mounts ``mv`` copies anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from docker.types import Mount

from docker_ops.engine import Engine
from docker_ops.errors import DockerOpsError

logger = logging.getLogger(__name__)

HELPER_TIMEOUT = 3600.0  # deleting a big workspace takes a while
HELPER_LABEL = "gpurent.helper"
DELETE_CAPS = ("DAC_OVERRIDE", "FOWNER")
ARCHIVE_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID")
PIDS_LIMIT = 64
WORK, ARCHIVE = "/w", "/a"
DELETE_ARGV = ("find", WORK, "-mindepth", "1", "-delete")  # no shell, no glob, no symlink follow
COPY_ARGV = ("cp", "-a", f"{WORK}/.", f"{ARCHIVE}/")
_ABSENT = "bind source path does not exist"


@dataclass(frozen=True)
class Job:
    """One helper run: ``argv`` with ``source`` (which must exist) at /w and, for an archive,
    ``dest`` (made when missing) at /a."""

    argv: tuple[str, ...]
    source: str
    caps: tuple[str, ...]
    source_read_only: bool = False
    dest: str | None = None


def helper_kwargs(image: str, job: Job) -> dict[str, Any]:
    """Arguments for ``containers.create``; pure, so the confinement is unit-tested."""
    kwargs: dict[str, Any] = {
        "image": image, "entrypoint": [job.argv[0]], "command": list(job.argv[1:]),
        "user": "0:0", "network_disabled": True, "read_only": True,
        "cap_drop": ["ALL"], "cap_add": list(job.caps),
        "security_opt": ["no-new-privileges"], "pids_limit": PIDS_LIMIT,
        "labels": {HELPER_LABEL: job.argv[0]},
        # A bind Mount (not a volume string) fails when the source is missing instead of
        # having dockerd create it: a workspace already gone stays gone.
        "mounts": [Mount(WORK, job.source, type="bind", read_only=job.source_read_only)],
    }
    if job.dest is not None:
        kwargs["volumes"] = {job.dest: {"bind": ARCHIVE, "mode": "rw"}}
    return kwargs


def _run(client: docker.DockerClient, image: str, job: Job) -> tuple[int, str] | None:
    """Exit code and output; None when the source directory does not exist."""
    try:
        box = client.containers.create(**helper_kwargs(image, job))
    except docker.errors.APIError as exc:
        if _ABSENT in str(exc.explanation or exc):
            return None
        raise
    try:
        box.start()
        code = int(box.wait().get("StatusCode", -1))
        output = bytes(box.logs(stdout=True, stderr=True)).decode("utf-8", "replace")
    finally:
        box.remove(force=True)
    return code, output


async def run(engine: Engine, image: str, job: Job) -> bool:
    """Run the job; False when its source is gone (nothing to do)."""
    found = await engine.call(f"helper {job.argv[0]}", lambda c: _run(c, image, job),
                              timeout=HELPER_TIMEOUT)
    if found is None:
        logger.info("helper %s on %s: %s is gone already", job.argv[0], engine.name, job.source)
        return False
    code, output = found
    if code != 0:
        raise DockerOpsError(f"{job.argv[0]} on host {engine.name} exited {code}: "
                             f"{output[-300:]}", transient=True)
    return True


async def delete_dir(engine: Engine, image: str, path: str) -> None:
    """Empty ``path`` on the host (gone already counts as done)."""
    await run(engine, image, Job(DELETE_ARGV, path, DELETE_CAPS))


async def archive_dir(engine: Engine, image: str, path: str, dest: str) -> None:
    """Copy ``path`` to ``dest`` on the host, then empty it (absent: nothing to do)."""
    copy = Job(COPY_ARGV, path, ARCHIVE_CAPS, source_read_only=True, dest=dest)
    if await run(engine, image, copy):
        await delete_dir(engine, image, path)
