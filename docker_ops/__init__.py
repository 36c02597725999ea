"""Docker hosts, rental containers, images and GPU inventory.

The only package that imports `docker` or `pynvml`. Every SDK call runs through
`Engine.call`, off the event loop, and fails with a `DockerOpsError` subclass.

Names are resolved lazily (PEP 562): `docker_ops.imageref` is pure and is used by the use
cases, which must not pull the Docker SDK in just by importing this package.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, tuple[str, ...]] = {
    "containers": ("ContainerInfo", "ContainerSpec", "commit", "container_exists",
                   "create_and_start", "inspect_state", "list_ours", "logs", "published_ports",
                   "remove", "restart", "start", "stop"),
    "engine": ("Engine", "HostConn", "HostInfo"),
    "entry": ("ENTRY_SCRIPT",),
    "errors": ("ContainerGoneError", "ContainerNotRunningError", "ContainerStartError",
               "DockerOpsError", "HostUnreachableError", "ImagePullError", "NameConflictError",
               "NotReadyError", "PortInUseError"),
    "gpus": ("GpuInfo", "GpuProbe", "GpuProbeError", "NoGpuProbe", "NvmlProbe", "detect_probe"),
    "images": ("PullProgress", "ensure_image", "image_present", "pull"),
    "imageref": ("ImageRef", "parse_image_ref", "registry_allowed"),
    "password": ("set_root_password",),
    "ready": ("wait_ready",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'docker_ops' has no attribute {name!r}")
    return getattr(importlib.import_module(f"docker_ops.{module}"), name)
