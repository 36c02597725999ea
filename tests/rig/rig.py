"""The whole rig: GPU-server engines with the test image loaded, plus a loopback registry."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

import docker

from tests.rig import image, procs
from tests.rig.config import (
    ENGINE_NAMES,
    REGISTRY_REPO,
    REGISTRY_TAG,
    TEST_IMAGE_REFS,
    RigUnavailableError,
    lock_path,
    rig_dir,
)
from tests.rig.engines import Engine, check_prerequisites, start_engines, stop_engines
from tests.rig.mirror import Mirror
from tests.rig.registry import Registry

logger = logging.getLogger(__name__)
T = TypeVar("T")
LOCK_TIMEOUT = float(os.environ.get("GPURENT_RIG_LOCK_TIMEOUT", "900"))


class Rig:
    """Start with start(), end with stop(); reset() puts it back to a clean state between tests."""

    def __init__(self, home: Path | None = None, names: tuple[str, ...] = ENGINE_NAMES) -> None:
        self.home = home or rig_dir()
        self.names = names
        self.engines: list[Engine] = []
        self.test_images = TEST_IMAGE_REFS
        self.image_ids: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self._registry: Registry | None = None
        self._registry_error = "the registry was not started"
        self._tarball: Path | None = None
        self._lock: IO[str] | None = None
        self.mirror = Mirror()

    def engine(self, name: str) -> Engine:
        return next(engine for engine in self.engines if engine.name == name)

    @property
    def mirror_url(self) -> str:
        """The partial Debian mirror as containers on every engine reach it (no NAT needed):
        http://<engine 0's gateway>:PORT, with /debian/dists/bookworm/... under it."""
        return self.mirror.url

    @property
    def registry(self) -> str:
        """Address of the loopback registry, "127.0.0.1:PORT"."""
        return self._need_registry().address

    @property
    def registry_image(self) -> str:
        """The test image as a student would type a custom image: 127.0.0.1:PORT/nvidia/..."""
        return f"{self.registry}/{REGISTRY_REPO}:{REGISTRY_TAG}"

    def _need_registry(self) -> Registry:
        if self._registry is None:
            raise RigUnavailableError(self._registry_error)
        return self._registry

    def stop_registry(self) -> None:
        self._need_registry().stop()

    def start_registry(self) -> None:
        self._need_registry().start()

    def start(self, say: Callable[[str], None] = logger.info) -> None:
        check_prerequisites()
        self._take_lock(say)
        self._timed("cleanup", lambda: procs.clean_rig_dir(self.home))
        tarball = self._timed("image", lambda: image.ensure_rootfs(say))
        self._tarball = tarball
        self.engines = self._timed("engines", lambda: start_engines(self.home, self.names))
        self.image_ids = self._timed("import", lambda: image.load_test_image(self.engines, tarball))
        self._timed("registry", lambda: self._start_registry(tarball))
        self.mirror.start(image.mirror_path(), self.engines[0].gateway)
        say("rig: " + ", ".join(f"{key} {value:.1f} s" for key, value in self.timings.items()))

    def _take_lock(self, say: Callable[[str], None]) -> None:
        """One rig per machine: a second one would kill the first one's daemons as leftovers.

        The lock dies with its holder, so what a crashed holder left is safe to clean up.
        """
        self._lock = _acquire(lock_path(), LOCK_TIMEOUT, say)

    def _timed(self, step: str, action: Callable[[], T]) -> T:
        started = time.monotonic()
        result = action()
        self.timings[step] = time.monotonic() - started
        return result

    def _start_registry(self, tarball: Path) -> None:
        try:
            registry = Registry(self.home / "registry")
        except RigUnavailableError as exc:
            self._registry_error = str(exc)
            logger.warning("no loopback registry: %s", exc)
            return
        registry.start()
        ref = f"{REGISTRY_REPO}:{REGISTRY_TAG}"
        layer = image.distinct_layer(tarball, tarball)
        registry.push_tarball(ref, layer, image.image_config(image.diff_id(layer)))
        self._registry = registry

    def stop(self) -> None:
        """Stop everything and remove every trace; safe to call twice, or without start()."""
        if self._lock is None:
            return
        with contextlib.suppress(Exception):
            stop_engines(self.engines)
        if self._registry is not None:
            self._registry.stop()
        self.mirror.stop()
        procs.clean_rig_dir(self.home)
        self.engines = []
        self._lock.close()  # releases the flock
        self._lock = None

    def reset(self) -> None:
        """After a test: daemons and registry up, hooks working, only the test images left."""
        if self._registry is not None:
            self._registry.start()
        for engine in self.engines:
            engine.fail_gpu_hook(False)
            engine.slow_gpu_hook(0)
            engine.start_daemon()
            engine.remove_containers()
            self._prune(engine)
            _empty_dir(engine.workspace_root)

    def _prune(self, engine: Engine) -> None:
        keep_id = self.image_ids[engine.name]
        with contextlib.closing(engine.client()) as client:
            for img in client.images.list(all=True):
                extra = [tag for tag in img.tags if tag not in self.test_images]
                if img.id != keep_id:
                    _remove_image(client, img.id)
                else:
                    for tag in extra:
                        _remove_image(client, tag)
            client.volumes.prune()
            client.networks.prune()
        self._restore_test_image(engine)

    def _restore_test_image(self, engine: Engine) -> None:
        """A test may untag or delete the test image; put it back as it was."""
        with contextlib.closing(engine.client()) as client:
            try:
                img = client.images.get(self.image_ids[engine.name])
            except docker.errors.ImageNotFound:
                assert self._tarball is not None
                logger.warning("%s: test image deleted by a test, importing again", engine.name)
                self.image_ids[engine.name] = image.import_into(engine, self._tarball)
                return
            for ref in self.test_images:
                if ref not in img.tags:
                    img.tag(*ref.rsplit(":", 1))

    def dump_logs(self) -> str:
        return "\n".join(engine.container_logs_dump() for engine in self.engines)


def _acquire(path: Path, timeout: float, say: Callable[[str], None]) -> IO[str]:
    lock = path.open("a+")  # held open (and locked) for the rig's whole life
    deadline = time.monotonic() + timeout
    said = False
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise RigUnavailableError(f"{path} stays held by another session") from None
            if not said:
                say(f"{path} is held by another rig session; waiting")
                said = True
            time.sleep(0.5)
            continue
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        return lock


def _remove_image(client: docker.DockerClient, ref: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        client.images.remove(ref, force=True)


def _empty_dir(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
