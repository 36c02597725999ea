"""GPU inventory of the machine the bot runs on, through NVML.

Every field is read on its own: consumer cards and containers answer NotSupported for some
(power, processes' memory), and one missing reading must not hide the GPU.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pynvml

from docker_ops.errors import DockerOpsError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class GpuProbeError(DockerOpsError):
    transient = True


@dataclass
class GpuInfo:
    index: str
    name: str
    uuid: str
    memory_total: int
    memory_used: int
    utilization: int | None
    temperature: int | None
    power_w: float | None
    processes: list[tuple[int, int]] = field(default_factory=list)  # (pid, used memory)


class GpuProbe(Protocol):
    def available(self) -> bool: ...

    def read(self) -> list[GpuInfo]: ...


def _field(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except pynvml.NVMLError as exc:
        logger.debug("NVML reading unavailable: %s", exc)
        return None


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def _processes(handle: Any) -> list[tuple[int, int]]:
    procs = _field(lambda: pynvml.nvmlDeviceGetComputeRunningProcesses(handle)) or []
    return [(int(p.pid), int(p.usedGpuMemory or 0)) for p in procs]


def _read_one(index: int) -> GpuInfo:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    memory = _field(lambda: pynvml.nvmlDeviceGetMemoryInfo(handle))
    util = _field(lambda: pynvml.nvmlDeviceGetUtilizationRates(handle))
    power_mw = _field(lambda: pynvml.nvmlDeviceGetPowerUsage(handle))
    return GpuInfo(
        index=str(index),
        name=_text(_field(lambda: pynvml.nvmlDeviceGetName(handle))),
        uuid=_text(_field(lambda: pynvml.nvmlDeviceGetUUID(handle))),
        memory_total=int(memory.total) if memory else 0,
        memory_used=int(memory.used) if memory else 0,
        utilization=int(util.gpu) if util else None,
        temperature=_field(
            lambda: int(pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
        ),
        power_w=power_mw / 1000.0 if power_mw is not None else None,
        processes=_processes(handle),
    )


class NvmlProbe:
    """Reads the local GPUs through NVML; `nvmlInit` runs once, on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: bool | None = None

    def available(self) -> bool:
        with self._lock:
            if self._ready is None:
                try:
                    pynvml.nvmlInit()
                    self._ready = True
                except pynvml.NVMLError as exc:
                    logger.info("NVML not available: %s", exc)
                    self._ready = False
            return self._ready

    def read(self) -> list[GpuInfo]:
        if not self.available():
            return []
        try:
            count = pynvml.nvmlDeviceGetCount()
        except pynvml.NVMLError as exc:
            raise GpuProbeError(f"NVML stopped answering: {exc}") from exc
        gpus: list[GpuInfo] = []
        for index in range(count):
            try:
                gpus.append(_read_one(index))
            except pynvml.NVMLError as exc:
                # A GPU that fell off the bus still counts; report it without readings.
                logger.warning("GPU %d unreadable: %s", index, exc)
                gpus.append(GpuInfo(str(index), "unreadable", "", 0, 0, None, None, None))
        return gpus


class NoGpuProbe:
    """For hosts without NVIDIA GPUs (and for development machines)."""

    def available(self) -> bool:
        return False

    def read(self) -> list[GpuInfo]:
        return []


def detect_probe() -> GpuProbe:
    probe = NvmlProbe()
    return probe if probe.available() else NoGpuProbe()
