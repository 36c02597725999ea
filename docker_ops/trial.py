"""A rental's container spec tried for real and removed at once, part by part if need be.

``gpurent check`` uses it to find what a host would refuse before a student meets it: the
GPU device request, a ulimit, the shared memory or resource limits, the workspace bind.
A part left out is dropped from the very arguments a rental's container is created with.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from docker_ops import containers
from docker_ops.engine import Engine
from docker_ops.errors import DockerOpsError

logger = logging.getLogger(__name__)

PARTS = ("gpus", "memlock", "stack", "shm", "memory", "cpus", "pids", "privileges", "workspace")
_KWARG = {"gpus": "device_requests", "shm": "shm_size", "memory": "mem_limit",
          "cpus": "nano_cpus", "pids": "pids_limit", "privileges": "security_opt",
          "workspace": "volumes"}
_ULIMITS = {"memlock", "stack"}


def trial_kwargs(spec: containers.ContainerSpec, without: Collection[str]) -> dict[str, Any]:
    """``containers.create_kwargs(spec)`` minus the named parts (names from PARTS)."""
    kwargs = containers.create_kwargs(spec)
    for part in without:
        if part in _ULIMITS:
            kwargs["ulimits"] = [u for u in kwargs["ulimits"] if u.name != part]
        elif part in _KWARG:
            kwargs.pop(_KWARG[part], None)
        else:
            raise ValueError(f"unknown part {part!r}")
    return kwargs


async def try_start(engine: Engine, spec: containers.ContainerSpec,
                    without: Collection[str] = ()) -> None:
    """Create and start the container, then remove it; the DockerOpsError of a refused
    create or start comes out as is."""
    kwargs = trial_kwargs(spec, without)
    cid: str = await engine.call("create", lambda c: c.containers.create(**kwargs).id)
    try:
        await engine.call("start", lambda c: c.api.start(cid))
    finally:
        try:
            await containers.remove(engine, cid)
        except DockerOpsError as exc:
            logger.warning("could not remove trial container %s on %s: %s", cid[:12],
                           engine.name, exc.message)
