"""Rental containers: create, start, stop, remove, inspect, list, commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
from docker.types import DeviceRequest, Ulimit

from docker_ops.engine import Engine
from docker_ops.entry import ENTRY_SCRIPT
from docker_ops.errors import ContainerGoneError, DockerOpsError
from docker_ops.password import put_jupyter_token, set_root_password
from docker_ops.ready import wait_ready

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_ULIMITS",
    "ENTRY_SCRIPT",
    "ContainerInfo",
    "ContainerSpec",
    "commit",
    "container_exists",
    "create_and_start",
    "create_kwargs",
    "derived_limits",
    "inspect_state",
    "list_ours",
    "logs",
    "published_ports",
    "remove",
    "restart",
    "set_root_password",
    "start",
    "stop",
    "wait_ready",
]

STACK_BYTES = 67108864
# NGC's recommended limits. A dockerd without CAP_SYS_RESOURCE (some CI sandboxes) cannot
# grant unlimited memlock; such hosts pass their own `ulimits`.
DEFAULT_ULIMITS: dict[str, tuple[int, int]] = {
    "memlock": (-1, -1),
    "stack": (STACK_BYTES, STACK_BYTES),
}
COMMIT_TIMEOUT = 1800.0  # committing a container with a big writable layer takes minutes
DEFAULT_PIDS_LIMIT = 8192  # a fork bomb stops here, not at the host's pid_max


@dataclass
class ContainerSpec:
    name: str
    image: str
    hostname: str
    labels: dict[str, str]
    gpu_ids: list[str]
    ports: dict[int, int]  # container port -> host port
    workspace_dir: str
    env: dict[str, str] = field(default_factory=dict)
    shm_size: str | None = None
    mem_limit: str | None = None
    nano_cpus: int | None = None
    ulimits: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_ULIMITS))
    jupyter_token: str = ""  # handed over by exec after the start, never in the environment
    pids_limit: int | None = DEFAULT_PIDS_LIMIT
    no_new_privileges: bool = True


# Unset limits are the rental's share of the host: its GPUs out of the host's, of the host's
# memory less headroom for the host itself (dockerd, sshd, page cache) and of its CPUs.
HOST_MEMORY_SHARE = 0.9


def derived_limits(mem_total: int, ncpu: int, gpus: int, host_gpus: int) -> tuple[int, int]:
    """(memory bytes, nano CPUs) for a rental of ``gpus`` on a host of ``host_gpus``."""
    share = min(1.0, gpus / host_gpus) if gpus > 0 and host_gpus > 0 else 1.0
    memory = int(mem_total * HOST_MEMORY_SHARE * share)
    nano_cpus = max(int(ncpu * share * 1e9), 10**8)  # never below a tenth of a CPU
    return memory, nano_cpus


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    labels: dict[str, str]
    state: str


def create_kwargs(spec: ContainerSpec) -> dict[str, Any]:
    """Arguments for `containers.create`; pure, so the shape is unit-tested."""
    kwargs: dict[str, Any] = {
        "image": spec.image,
        "name": spec.name,
        "hostname": spec.hostname,
        "labels": dict(spec.labels),
        "environment": dict(spec.env),
        "entrypoint": ["/bin/sh", "-c", ENTRY_SCRIPT],
        "ports": {f"{cport}/tcp": hport for cport, hport in spec.ports.items()},
        "volumes": {spec.workspace_dir: {"bind": "/workspace", "mode": "rw"}},
        "ulimits": [
            Ulimit(name=name, soft=soft, hard=hard) for name, (soft, hard) in spec.ulimits.items()
        ],
        "restart_policy": {"Name": "unless-stopped"},
        "detach": True,
        # Nothing of the host: no host namespaces, devices, socket or other mounts, no extra
        # capabilities; setuid programs cannot gain more than root in the container has.
        "privileged": False,
        "cgroupns": "private",  # cgroup v1 engines default to the host's cgroup namespace
    }
    if spec.no_new_privileges:
        kwargs["security_opt"] = ["no-new-privileges"]
    if spec.pids_limit:
        kwargs["pids_limit"] = spec.pids_limit
    if spec.gpu_ids:
        kwargs["device_requests"] = [
            DeviceRequest(device_ids=list(spec.gpu_ids), capabilities=[["gpu"]])
        ]
    optional = {"shm_size": spec.shm_size, "mem_limit": spec.mem_limit,
                "nano_cpus": spec.nano_cpus}
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    return kwargs


async def create_and_start(engine: Engine, spec: ContainerSpec) -> str:
    """Create and start; a container that fails to start is removed before raising."""
    kwargs = create_kwargs(spec)
    cid: str = await engine.call("create", lambda c: c.containers.create(**kwargs).id)
    try:
        if spec.jupyter_token:
            await put_jupyter_token(engine, cid, spec.jupyter_token)
        await engine.call("start", lambda c: c.api.start(cid))
    except BaseException:
        await _discard(engine, cid)
        raise
    logger.info("started container %s (%s) on %s", spec.name, cid[:12], engine.name)
    return cid


async def _discard(engine: Engine, cid: str) -> None:
    try:
        await remove(engine, cid)
    except DockerOpsError as exc:
        logger.warning("could not remove failed container %s on %s: %s",
                       cid[:12], engine.name, exc.message)


async def stop(engine: Engine, cid: str, timeout: int = 10) -> None:
    await engine.call("stop", lambda c: c.api.stop(cid, timeout=timeout))


async def start(engine: Engine, cid: str) -> None:
    await engine.call("start", lambda c: c.api.start(cid))


async def restart(engine: Engine, cid: str) -> None:
    await engine.call("restart", lambda c: c.api.restart(cid, timeout=10))


def _remove(client: docker.DockerClient, cid: str) -> None:
    try:
        client.api.remove_container(cid, force=True, v=False)
    except docker.errors.NotFound:
        logger.info("container %s already gone", cid[:12])
    except docker.errors.APIError as exc:
        # 409 "removal already in progress": someone else is deleting it.
        if exc.status_code != 409:
            raise
        logger.info("container %s is already being removed", cid[:12])


async def remove(engine: Engine, cid: str) -> None:
    """Force-remove; a container that is already gone counts as removed."""
    await engine.call("remove", lambda c: _remove(c, cid))


async def inspect_state(engine: Engine, cid: str) -> str:
    data = await engine.call("inspect", lambda c: c.api.inspect_container(cid))
    return str(data["State"]["Status"])


async def list_ours(engine: Engine, label_key: str = "gpurent.rental") -> list[ContainerInfo]:
    rows = await engine.call(
        "list", lambda c: c.api.containers(all=True, filters={"label": label_key})
    )
    return [
        ContainerInfo(
            id=row["Id"],
            name=(row.get("Names") or ["/"])[0].lstrip("/"),
            labels=dict(row.get("Labels") or {}),
            state=str(row.get("State", "")),
        )
        for row in rows
    ]


async def logs(engine: Engine, cid: str, tail: int = 200) -> str:
    raw = await engine.call(
        "logs", lambda c: c.api.logs(cid, stdout=True, stderr=True, tail=tail)
    )
    return bytes(raw).decode("utf-8", "replace")


async def commit(engine: Engine, cid: str, repo: str, tag: str) -> str:
    """Snapshot the container as image `repo:tag`; returns the image id."""
    result = await engine.call(
        "commit", lambda c: c.api.commit(cid, repository=repo, tag=tag), timeout=COMMIT_TIMEOUT
    )
    return str(result["Id"])


def _published_ports(client: docker.DockerClient) -> set[int]:
    ports: set[int] = set()
    for row in client.api.containers(all=True):
        try:
            data = client.api.inspect_container(row["Id"])
        except docker.errors.NotFound:
            continue  # removed while we were listing
        bindings = (data.get("HostConfig") or {}).get("PortBindings") or {}
        for binds in bindings.values():
            for bind in binds or []:
                if str(bind.get("HostPort") or "").isdigit():
                    ports.add(int(bind["HostPort"]))
    return ports


async def published_ports(engine: Engine) -> set[int]:
    """Host ports bound by every container on the engine, running or not."""
    return await engine.call("published_ports", _published_ports)


async def container_exists(engine: Engine, cid: str) -> bool:
    try:
        await inspect_state(engine, cid)
    except ContainerGoneError:
        return False
    return True
