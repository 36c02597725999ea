"""The bot's own image, built on a rig engine without any registry.

No registry is reachable in CI, so the base image is made here: the rig's imported test image
(Debian bookworm with python3, the same Python as python:3.11-slim) plus pip from a wheelhouse,
without Debian's "externally managed" marker, like the official image. The top-level Dockerfile
then builds on it with ``BASE`` and installs gpurent from the same wheelhouse (``--no-index``).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import docker

from tests.rig.config import repo_root

T = TypeVar("T")
BASE_TAG = "gpurent-ci/python:3.11-slim"
BOT_TAG = "gpurent-ci/bot:test"
RIG_PYTHON_IMAGE = "gpurent/test-base:latest"  # the rig's debootstrap rootfs has python3
SOURCES = ("pyproject.toml", "setup.cfg", "README.md",
           "bot", "handlers", "docker_ops", "billing", "models")
BASE_DOCKERFILE = f"""FROM {RIG_PYTHON_IMAGE}
COPY wheelhouse/pip-*.whl /tmp/
RUN set -eu; rm -f /usr/lib/python3*/EXTERNALLY-MANAGED; set -- /tmp/pip-*.whl; \\
    python3 "$1/pip" install --no-index --no-cache-dir --root-user-action=ignore "$1"; rm "$1"
"""


def build_wheelhouse(into: Path) -> Path:
    """gpurent's wheel, its dependencies with the postgres extra, and pip, from a copy of the
    sources (an in-tree build would reuse a stale build/ directory)."""
    src = into / "src"
    for name in SOURCES:
        path = repo_root() / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    wheels = into / "context" / "wheelhouse"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
                    f"{src}[postgres]", "pip", "-w", str(wheels)], check=True)
    return wheels.parent


def build(client: docker.DockerClient, context: Path, tag: str,
          buildargs: dict[str, str] | None = None) -> None:
    """``docker build``; a failure raises BuildError carrying the build log."""
    client.images.build(path=str(context), tag=tag, buildargs=buildargs or {},
                        rm=True, forcerm=True, pull=False)


def build_bot_image(client: docker.DockerClient, work: Path,
                    timings: dict[str, float]) -> str:
    """Wheelhouse, base image and the bot's image; returns the bot image's tag."""
    context = timed(timings, "wheelhouse", lambda: build_wheelhouse(work))
    (context / "Dockerfile").write_text(BASE_DOCKERFILE)
    timed(timings, "base image", lambda: build(client, context, BASE_TAG))
    shutil.copy2(repo_root() / "Dockerfile", context / "Dockerfile")
    timed(timings, "bot image", lambda: build(client, context, BOT_TAG, {"BASE": BASE_TAG}))
    return BOT_TAG


def remove_images(client: docker.DockerClient) -> None:
    """The bot image before its base, which Docker refuses to delete while a child exists."""
    for tag in (BOT_TAG, BASE_TAG):
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag, force=True)


def timed(timings: dict[str, float], step: str, action: Callable[[], T]) -> T:
    started = time.monotonic()
    result = action()
    timings[step] = time.monotonic() - started
    return result
