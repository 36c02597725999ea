"""GPU usage of any host, local or remote, from its running rentals' containers.

For each running container with our rental label: the host GPU ids it was given (its
``DeviceRequests``, fixed for the container's life, so inspected once) and what its
``nvidia-smi`` reports (see ``docker_ops.smi``). A container that gives no reading is
skipped and logged once per cause; only a host that cannot be listed fails the whole read.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.ports import GpuReading
from docker_ops import containers, smi
from docker_ops.engine import Engine
from docker_ops.errors import DockerOpsError

logger = logging.getLogger(__name__)


def device_ids(inspected: dict[str, Any]) -> tuple[str, ...]:
    """The GPU ids a container's GPU device requests name (in request order)."""
    requests = (inspected.get("HostConfig") or {}).get("DeviceRequests") or []
    ids: list[str] = []
    for request in requests:
        caps = [cap for group in request.get("Capabilities") or [] for cap in group or []]
        if "gpu" in caps:
            ids.extend(str(i) for i in request.get("DeviceIDs") or [])
    return tuple(ids)


def readings(pairs: list[tuple[str, smi.SmiRow]]) -> list[GpuReading]:
    """Memory counts only when both numbers came (a total of 0 means "unknown" downstream)."""
    out: list[GpuReading] = []
    for gpu_id, row in pairs:
        used, total = row.memory_used, row.memory_total
        if used is None or total is None:
            used = total = 0
        out.append(GpuReading(gpu_id, row.utilization, used, total, row.temperature))
    return out


class SmiUsage:
    """Reads usage per host; remembers each container's GPU ids and its last problem."""

    def __init__(self) -> None:
        self._gpus: dict[tuple[str, str], tuple[str, ...]] = {}
        self._problems: dict[tuple[str, str], str] = {}

    async def usage(self, engine: Engine) -> list[GpuReading]:
        boxes = [b for b in await containers.list_ours(engine) if b.state == "running"]
        self._forget(engine.name, {b.id for b in boxes})
        found = await asyncio.gather(*(self._one(engine, b.id) for b in boxes))
        taken: dict[str, GpuReading] = {}
        for reading in (r for rs in found for r in rs):
            taken.setdefault(reading.gpu_index, reading)  # one holder per GPU; first wins
        return [taken[g] for g in sorted(taken, key=smi.host_order)]

    async def _one(self, engine: Engine, cid: str) -> list[GpuReading]:
        key = (engine.name, cid)
        try:
            if key not in self._gpus:
                data = await engine.call("inspect", lambda c: c.api.inspect_container(cid))
                self._gpus[key] = device_ids(data)
            if not self._gpus[key]:
                return []
            rows = await smi.read(engine, cid)
        except DockerOpsError as exc:
            self._note(key, exc.message)
            return []
        if self._problems.pop(key, None) is not None:
            logger.info("GPU usage of container %s on %s readable again", cid[:12], engine.name)
        return readings(smi.to_host(rows, self._gpus[key]))

    def _note(self, key: tuple[str, str], problem: str) -> None:
        if self._problems.get(key) != problem:
            logger.warning("no GPU usage from container %s: %s", key[1][:12], problem)
        self._problems[key] = problem

    def _forget(self, host: str, running: set[str]) -> None:
        """Drop what we know of containers no longer running on ``host``."""
        for known in (self._gpus, self._problems):
            for key in [k for k in known if k[0] == host and k[1] not in running]:
                del known[key]
