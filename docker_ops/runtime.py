"""The Docker implementation of the use cases' ContainerRuntime: host names to Engines,
our RunSpec to the SDK's arguments, docker_ops errors to RuntimeFaultError."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from bot.config import HostConfig
from bot.ports import ContainerDeath, GpuReading, Progress, RunSpec, RuntimeFaultError
from docker_ops import builds, containers, events, execs, helper, images, trial
from docker_ops.engine import Engine, HostConn, HostInfo
from docker_ops.errors import (
    ContainerGoneError,
    DockerOpsError,
    HostUnreachableError,
    ImagePullError,
    NameConflictError,
    NotReadyError,
    PortInUseError,
)
from docker_ops.gpus import GpuProbe, detect_probe
from docker_ops.password import set_root_password
from docker_ops.ready import wait_ready
from docker_ops.usage import SmiUsage

logger = logging.getLogger(__name__)

T = TypeVar("T")

WATCH_FIRST_RETRY_S = 2.0
WATCH_MAX_RETRY_S = 60.0
_DIR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")

_KINDS: tuple[tuple[type[DockerOpsError], str], ...] = (
    (HostUnreachableError, "unreachable"), (ImagePullError, "pull"),
    (PortInUseError, "port_in_use"), (NotReadyError, "not_ready"),
    (ContainerGoneError, "gone"), (NameConflictError, "name_in_use"),
)


def to_fault(exc: DockerOpsError) -> RuntimeFaultError:
    kind = next((k for cls, k in _KINDS if isinstance(exc, cls)), "start")
    # A container whose SSH never answers will not answer on a second try either.
    transient = exc.transient and kind != "not_ready"
    port = exc.port if isinstance(exc, PortInUseError) else None
    return RuntimeFaultError(kind, exc.message, transient=transient, port=port)


class DockerRuntime:
    def __init__(self, hosts: Iterable[HostConfig], probe: GpuProbe | None = None) -> None:
        self.hosts = {h.name: h for h in hosts}
        self.probe = probe
        self.smi = SmiUsage()
        self._gpu_counts: dict[str, int] = {}
        self.engines = {
            h.name: Engine(HostConn(name=h.name, docker_url=h.docker_url, tls_ca=h.tls_ca,
                                    tls_cert=h.tls_cert, tls_key=h.tls_key))
            for h in self.hosts.values()}

    def engine(self, host: str) -> Engine:
        try:
            return self.engines[host]
        except KeyError:
            raise RuntimeFaultError("unreachable", f"unknown host {host}",
                                    transient=False) from None

    async def _do(self, host: str, work: Callable[[Engine], Awaitable[T]]) -> T:
        try:
            return await work(self.engine(host))
        except DockerOpsError as exc:
            raise to_fault(exc) from exc

    async def info(self, host: str) -> HostInfo:
        return await self._do(host, lambda e: e.ping())

    async def ping(self, host: str) -> None:
        await self.info(host)

    async def engine_version(self, host: str) -> str:
        return (await self.info(host)).server_version

    async def build_image(self, host: str, dockerfile: str, tag: str,
                          on_log: Callable[[str], None]) -> int:
        # The host's network: a build installs packages, and an engine's own bridge may
        # have no way out (no masquerading).
        return await self._do(host, lambda e: builds.build(e, dockerfile, tag, on_log, "host"))

    async def ensure_image(self, host: str, ref: str, on_progress: Progress | None) -> bool:
        return await self._do(host, lambda e: images.ensure_image(e, ref, on_progress))

    async def pull_pinned(self, host: str, ref: str, on_progress: Progress | None) -> str:
        return await self._do(host, lambda e: images.pull_pinned(e, ref, on_progress))

    async def run(self, host: str, spec: RunSpec) -> str:
        sdk_spec = to_sdk_spec(await self._limited(host, spec))
        return await self._do(host, lambda e: containers.create_and_start(e, sdk_spec))

    async def _limited(self, host: str, spec: RunSpec) -> RunSpec:
        """Memory and CPU limits on by default: where the config sets none, the rental's
        share of the host's size (by GPUs)."""
        if spec.mem_limit is not None and spec.nano_cpus is not None:
            return spec
        info = await self.info(host)
        memory, cpus = containers.derived_limits(info.mem_total, info.ncpu, len(spec.gpu_ids),
                                                 spec.host_gpus or await self._gpu_count(host))
        return dataclasses.replace(
            spec, mem_limit=spec.mem_limit if spec.mem_limit is not None else str(memory),
            nano_cpus=spec.nano_cpus if spec.nano_cpus is not None else cpus)

    async def _gpu_count(self, host: str) -> int:
        """The host's GPUs as NVML reads them (once); 0 (the whole host) when unreadable."""
        if host not in self._gpu_counts:
            try:
                self._gpu_counts[host] = len(await self.gpus(host))
            except (RuntimeFaultError, DockerOpsError) as exc:
                logger.warning("GPUs of %s uncounted (%s): limits are the host's", host, exc)
                return 0
        return self._gpu_counts[host]

    async def try_spec(self, host: str, spec: RunSpec, without: frozenset[str] = frozenset(),
                       ) -> None:
        """Start a container from ``spec`` minus the named parts (``trial.PARTS``) and remove
        it; RuntimeFaultError carries what the host refused."""
        sdk_spec = to_sdk_spec(await self._limited(host, spec))
        await self._do(host, lambda e: trial.try_start(e, sdk_spec, without))

    async def has_image(self, host: str, ref: str) -> bool:
        return await self._do(host, lambda e: images.image_present(e, ref))

    async def set_root_password(self, host: str, cid: str, password: str) -> None:
        await self._do(host, lambda e: set_root_password(e, cid, password))

    async def wait_ready(self, host: str, address: str, ssh_port: int,
                         jupyter_port: int | None, timeout: float) -> None:
        await self._do(host, lambda e: wait_ready(e, address, ssh_port, jupyter_port, timeout))

    async def stop(self, host: str, cid: str) -> None:
        await self._do(host, lambda e: containers.stop(e, cid))

    async def start(self, host: str, cid: str) -> None:
        await self._do(host, lambda e: containers.start(e, cid))

    async def remove(self, host: str, cid: str) -> None:
        await self._do(host, lambda e: containers.remove(e, cid))

    async def remove_images(self, host: str, repository: str) -> int:
        return await self._do(host, lambda e: images.remove_repository(e, repository))

    async def published_ports(self, host: str) -> set[int]:
        return await self._do(host, containers.published_ports)

    async def list_ours(self, host: str) -> list[tuple[str, dict[str, str], str]]:
        found = await self._do(host, containers.list_ours)
        return [(c.id, c.labels, c.state) for c in found]

    async def gpus(self, host: str) -> list[tuple[str, str, int]]:
        """(id, model, memory bytes) of the host's GPUs: the configured list, or NVML when the
        host is this machine (NVML cannot see another machine's GPUs)."""
        cfg = self.hosts[host]
        if cfg.gpus is not None:
            return [(g, "", 0) for g in cfg.gpus]
        if not cfg.docker_url.startswith("unix://"):
            raise RuntimeFaultError("config", f"host {host}: gpus = \"nvml\" reads only this "
                               "machine's GPUs; list the GPU ids for a remote host",
                               transient=False)
        probe = self.probe or detect_probe()
        found = await asyncio.to_thread(probe.read)
        return [(g.index, g.name, g.memory_total) for g in found]

    async def commit(self, host: str, cid: str, repo: str, tag: str) -> str:
        return await self._do(host, lambda e: containers.commit(e, cid, repo, tag))

    async def gpu_usage(self, host: str) -> list[GpuReading]:
        """The host's GPUs' load: NVML when the host is this machine and NVML works, else
        ``nvidia-smi`` in each running rental's container (only rented GPUs are read)."""
        cfg = self.hosts.get(host)
        if cfg is None:
            return []
        if self.probe is None:
            self.probe = detect_probe()
        if not (cfg.docker_url.startswith("unix://") and self.probe.available()):
            return await self._do(host, self.smi.usage)
        try:
            found = await asyncio.to_thread(self.probe.read)
        except DockerOpsError as exc:
            logger.warning("GPU usage on %s unreadable: %s", host, exc.message)
            return []
        return [GpuReading(g.index, g.utilization, g.memory_used, g.memory_total, g.temperature)
                for g in found]

    async def remove_dir(self, host: str, image: str, root: str, name: str) -> None:
        path = f"{root.rstrip('/')}/{_dir_name(name)}"
        await self._do(host, lambda e: helper.delete_dir(e, image, path))

    async def move_dir(self, host: str, image: str, root: str, name: str, dest_root: str,
                       dest_name: str) -> None:
        path = f"{root.rstrip('/')}/{_dir_name(name)}"
        dest = f"{dest_root.rstrip('/')}/{_dir_name(dest_name)}"
        await self._do(host, lambda e: helper.archive_dir(e, image, path, dest))

    async def watch_deaths(self, host: str, on_death: Callable[[ContainerDeath], None]) -> None:
        engine, pause = self.engine(host), WATCH_FIRST_RETRY_S
        since: int | None = None
        while True:
            try:
                if since is None:
                    since = await events.daemon_time(engine)
                since = await events.window(engine, since, lambda e: on_death(
                    ContainerDeath(e.cid, e.rental_id, e.action, e.exit_code)))
                pause = WATCH_FIRST_RETRY_S
            except DockerOpsError as exc:
                logger.warning("events of %s unreadable (%s); again in %.0f s", host,
                               exc.message, pause)
                since = None  # what happened meanwhile is the reconcile's to find
                await asyncio.sleep(pause)
                pause = min(pause * 2, WATCH_MAX_RETRY_S)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()

    # --- student self-service (issue 9) ---

    async def programs(self, host: str, cid: str) -> set[str]:
        return await self._do(host, lambda e: execs.programs(e, cid))

    async def restart(self, host: str, cid: str) -> None:
        await self._do(host, lambda e: containers.restart(e, cid))

    async def add_ssh_key(self, host: str, cid: str, key: str) -> None:
        await self._do(host, lambda e: execs.add_key(e, cid, key))

    async def remove_ssh_key(self, host: str, cid: str, key: str) -> None:
        await self._do(host, lambda e: execs.remove_key(e, cid, key))

    async def lock_password(self, host: str, cid: str) -> None:
        await self._do(host, lambda e: execs.lock_password(e, cid))

    async def image_programs(self, host: str, image: str) -> set[str] | None:
        return await self._do(host, lambda e: execs.image_programs(e, image))


def to_sdk_spec(spec: RunSpec) -> containers.ContainerSpec:
    return containers.ContainerSpec(
        name=spec.name, image=spec.image, hostname=spec.hostname, labels=dict(spec.labels),
        gpu_ids=list(spec.gpu_ids), ports=dict(spec.ports),
        workspace_dir=spec.workspace_dir, env=dict(spec.env), shm_size=spec.shm_size,
        mem_limit=spec.mem_limit, nano_cpus=spec.nano_cpus,
        ulimits={**containers.DEFAULT_ULIMITS, "memlock": (spec.memlock, spec.memlock)},
        jupyter_token=spec.jupyter_token, no_new_privileges=spec.no_new_privileges,
        pids_limit=spec.pids_limit if spec.pids_limit is not None
        else containers.DEFAULT_PIDS_LIMIT)


def _dir_name(name: str) -> str:
    if not _DIR_NAME.fullmatch(name) or ".." in name:
        raise RuntimeFaultError("start", f"refusing odd directory name {name!r}", transient=False)
    return name

