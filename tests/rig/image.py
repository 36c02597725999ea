"""The test image: a debootstrapped rootfs, cached as a tarball and `docker import`ed per engine,
and beside it the partial Debian mirror taken with it, which tests/rig/mirror.py serves.

Both are named after a hash of the build recipe (scripts/build-test-image.sh), so a rerun
does not debootstrap again and a changed recipe rebuilds.  Importing the tarball into both engines
at once beat `docker import` into one plus `docker save`/`load` into the other (5-8 s vs 12 s).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import logging
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.rig.config import TEST_IMAGE_REFS, RigUnavailableError, cache_dir, repo_root
from tests.rig.engines import Engine

logger = logging.getLogger(__name__)
RECIPE = repo_root() / "scripts" / "build-test-image.sh"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# The default command stops at once on `docker stop` (a shell without a TERM trap waits 10 s).
CMD = ["sh", "-c", 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done']
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
EXPOSE = (22, 8888)


def import_changes() -> list[str]:
    return [
        f"CMD {json.dumps(CMD)}",
        *(f"ENV {key}={value}" for key, value in ENV.items()),
        "EXPOSE " + " ".join(str(port) for port in EXPOSE),
    ]


def image_config(diff_id: str) -> dict[str, object]:
    """The same image as an image config, for pushing the tarball to a registry as is."""
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Cmd": CMD,
            "Env": [f"{key}={value}" for key, value in ENV.items()],
            "ExposedPorts": {f"{port}/tcp": {} for port in EXPOSE},
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }


def recipe_hash() -> str:
    return hashlib.sha256(RECIPE.read_bytes()).hexdigest()[:16]


def rootfs_path() -> Path:
    return cache_dir() / f"rootfs-{recipe_hash()}.tar.gz"


def mirror_path() -> Path:
    """The partial Debian mirror built with the rootfs: ``<dir>/debian/dists/bookworm/...``."""
    return cache_dir() / f"rootfs-{recipe_hash()}-mirror"


def apt_mirror() -> str:
    """The Debian mirror apt uses here (one-line or deb822 sources), else deb.debian.org."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        with contextlib.suppress(OSError):
            text = path.read_text()
            if path.suffix == ".sources":
                found = re.findall(r"^URIs:\s*(\S+)", text, re.MULTILINE)
            else:
                found = re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.MULTILINE)
            for uri in found:
                if uri.startswith("http") and "security" not in uri:
                    return uri
    return DEFAULT_MIRROR


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """Two sessions building at once would both debootstrap; the second waits instead."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with (cache_dir() / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_rootfs(say: Callable[[str], None]) -> Path:
    """The cached rootfs tarball (and its partial mirror), built first if this recipe has
    none yet."""
    target = rootfs_path()
    with _cache_lock():
        if target.exists() and mirror_path().is_dir():
            say(f"test image: cached {target}")
            return target
        if shutil.which("debootstrap") is None:
            raise RigUnavailableError("debootstrap not found (apt-get install debootstrap)")
        mirror = apt_mirror()
        say(f"test image: building {target.name} with debootstrap from {mirror} (about a minute)")
        started = time.monotonic()
        proc = subprocess.run(
            ["bash", str(RECIPE), str(target), mirror], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"building the test image failed:\n{proc.stderr[-3000:]}")
        say(f"test image: built cold in {time.monotonic() - started:.1f} s")
    return target


def diff_id(tarball: Path) -> str:
    """sha256 of the uncompressed layer, as an image config names it; cached beside it."""
    sidecar = tarball.with_name(tarball.name + ".diffid")
    if sidecar.exists():
        return sidecar.read_text().strip()
    digest = hashlib.sha256()
    with gzip.open(tarball, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    value = f"sha256:{digest.hexdigest()}"
    sidecar.write_text(value)
    return value


def import_into(engine: Engine, tarball: Path) -> str:
    """`docker import` the tarball into one engine, tagged with every test image reference."""
    first, *others = TEST_IMAGE_REFS
    with contextlib.closing(engine.client(timeout=300)) as client:
        repo, tag = first.rsplit(":", 1)
        client.api.import_image(
            src=str(tarball), repository=repo, tag=tag, changes=import_changes()
        )
        image = client.images.get(first)
        for ref in others:
            image.tag(*ref.rsplit(":", 1))
        return str(image.id)


def load_test_image(engines: list[Engine], tarball: Path) -> dict[str, str]:
    """Import into all engines at once; returns the image id per engine name."""
    with ThreadPoolExecutor(len(engines)) as pool:
        ids = pool.map(lambda engine: import_into(engine, tarball), engines)
        return dict(zip((engine.name for engine in engines), ids, strict=True))


def distinct_layer(tarball: Path, into: Path) -> Path:
    """The rootfs as a layer Docker cannot share with the imported test image.

    A pulled layer whose content equals a local one is deduplicated into it, so it would
    outlive the pulled image and every later pull would say "Already exists". Extra end-of-
    archive padding (a second gzip member of zero blocks) changes the layer's digest and
    nothing in the filesystem. Cached next to the tarball.
    """
    target = into.with_name(tarball.name.replace(".tar.gz", "-registry.tar.gz"))
    if not target.exists():
        partial = target.with_suffix(".partial")
        shutil.copyfile(tarball, partial)
        with partial.open("ab") as out:
            out.write(gzip.compress(b"\0" * 10240))
        partial.rename(target)
    return target
