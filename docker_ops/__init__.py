"""Docker hosts, rental containers, images and GPU inventory.

The only package that imports `docker` or `pynvml`. Every SDK call runs through
`Engine.call`, off the event loop, and fails with a `DockerOpsError` subclass.
"""

from __future__ import annotations

from docker_ops.containers import (
    ContainerInfo,
    ContainerSpec,
    commit,
    container_exists,
    create_and_start,
    inspect_state,
    list_ours,
    logs,
    published_ports,
    remove,
    restart,
    start,
    stop,
)
from docker_ops.engine import Engine, HostConn, HostInfo
from docker_ops.entry import ENTRY_SCRIPT
from docker_ops.errors import (
    ContainerGoneError,
    ContainerNotRunningError,
    ContainerStartError,
    DockerOpsError,
    HostUnreachableError,
    ImagePullError,
    NameConflictError,
    NotReadyError,
    PortInUseError,
)
from docker_ops.gpus import GpuInfo, GpuProbe, GpuProbeError, NoGpuProbe, NvmlProbe, detect_probe
from docker_ops.images import (
    ImageRef,
    PullProgress,
    ensure_image,
    image_present,
    parse_image_ref,
    pull,
    registry_allowed,
)
from docker_ops.password import set_root_password
from docker_ops.ready import wait_ready

__all__ = [
    "ENTRY_SCRIPT",
    "ContainerGoneError",
    "ContainerInfo",
    "ContainerNotRunningError",
    "ContainerSpec",
    "ContainerStartError",
    "DockerOpsError",
    "Engine",
    "GpuInfo",
    "GpuProbe",
    "GpuProbeError",
    "HostConn",
    "HostInfo",
    "HostUnreachableError",
    "ImagePullError",
    "ImageRef",
    "NameConflictError",
    "NoGpuProbe",
    "NotReadyError",
    "NvmlProbe",
    "PortInUseError",
    "PullProgress",
    "commit",
    "container_exists",
    "create_and_start",
    "detect_probe",
    "ensure_image",
    "image_present",
    "inspect_state",
    "list_ours",
    "logs",
    "parse_image_ref",
    "published_ports",
    "pull",
    "registry_allowed",
    "remove",
    "restart",
    "set_root_password",
    "start",
    "stop",
    "wait_ready",
]
