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
# Bridges and cgroups made by the rig carry these prefixes, so leftovers can be found.
BRIDGE_PREFIX = "gprig-"
CGROUP_PREFIX = "gpurent-rig-"


# Bridges, loopback addresses and ports are machine-wide, so one rig runs at a time per machine,
# whatever its rig dir; a second session waits on this lock.
LOCK_PATH = Path("/tmp/gpurent-rig-engines.lock")


class RigUnavailableError(RuntimeError):
    """The rig cannot run on this machine (not root, a binary missing, ...)."""


def rig_dir() -> Path:
    return Path(os.environ.get("GPURENT_RIG_DIR", "/tmp/gpurent-rig"))


def cache_dir() -> Path:
    return Path(os.environ.get("GPURENT_TEST_CACHE", "/var/cache/gpurent-test"))


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
