"""Where the rig keeps its state, and the names it gives the test image."""

from __future__ import annotations

import os
from pathlib import Path

# Docker 20.10 speaks API 1.41; pinning it lets a client be made while a daemon is down.
API_VERSION = "1.41"
LABEL_KEY = "gpurent.rig"
ENGINE_NAMES = ("HPC1", "HPC2")
GPU_IDS = ("0", "1")
# Image references the test config offers; all point at the same imported test image.
TEST_IMAGE_REFS = (
    "nvcr.io/nvidia/pytorch:20.12-py3",
    "nvcr.io/nvidia/tensorflow:20.12-tf2-py3",
    "gpurent/test-base:latest",
)
# A "custom image" a student might type; served by the loopback registry.
REGISTRY_REPO = "nvidia/pytorch"
REGISTRY_TAG = "23.10-py3"
MAX_SLOTS = 20


def slot() -> int:
    """Which of the machine's rigs this process runs: 0, or one per pytest-xdist worker ("gw1"
    is slot 1), or GPURENT_RIG_SLOT. Each slot has its own dir, lock, bridges, addresses and
    cgroups, so several rigs run side by side and clean up only their own leftovers."""
    raw = os.environ.get("GPURENT_RIG_SLOT") or os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]
    number = int(raw) if raw.isdigit() else 0
    if not 0 <= number < MAX_SLOTS:
        raise RigUnavailableError(f"rig slot {number} out of range 0..{MAX_SLOTS - 1}")
    return number


def _tagged(base: str) -> str:
    """``base`` for slot 0 (the names a single rig always had), ``base`` + N for slot N."""
    return base if slot() == 0 else f"{base}{slot()}"


def bridge_prefix() -> str:
    """Bridges made by this slot's rig carry this prefix, so its leftovers can be found."""
    return _tagged("gprig") + "-"


def cgroup_prefix() -> str:
    return _tagged("gpurent-rig") + "-"


def lock_path() -> Path:
    """Bridges, loopback addresses and ports are machine-wide, so one rig runs per slot per
    machine, whatever its rig dir; a second session of the same slot waits on this lock."""
    return Path("/tmp") / (_tagged("gpurent-rig-engines") + ".lock")


def address_block() -> int:
    """Engine N of this slot listens on 127.0.0.<block+N> and bridges 10.231.<block+N>.0/24."""
    return 10 + 10 * slot()


class RigUnavailableError(RuntimeError):
    """The rig cannot run on this machine (not root, a binary missing, ...)."""


def rig_dir() -> Path:
    return Path(_tagged(os.environ.get("GPURENT_RIG_DIR", "/tmp/gpurent-rig")))


def cache_dir() -> Path:
    return Path(os.environ.get("GPURENT_TEST_CACHE", "/var/cache/gpurent-test"))


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
