"""docker_ops against real Docker engines of the test rig (HPC1, HPC2 and a loopback registry).

Containers are named `gpurent-test-*` and removed in `finally`; `clean_rig` puts daemons,
GPU hooks and the registry back after each test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import secrets
import socket
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

import docker_ops as ops
from docker_ops.containers import DEFAULT_ULIMITS

pytestmark = pytest.mark.rig

PREFIX = "gpurent-test-"
LABEL = "gpurent.rental"
IMAGE = "gpurent/test-base:latest"
ENGINE_NAMES = ["HPC1", "HPC2"]


def host_ulimits() -> dict[str, tuple[int, int]]:
    """NGC's limits, except that a sandbox without CAP_SYS_RESOURCE caps memlock."""
    limits = dict(DEFAULT_ULIMITS)
    _soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if hard != resource.RLIM_INFINITY:
        limits["memlock"] = (hard, hard)
    return limits


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=ENGINE_NAMES)
def rig_engine(clean_rig: Any, request: pytest.FixtureRequest) -> Any:
    found = [engine for engine in clean_rig.engines if engine.name == request.param]
    if not found:
        pytest.skip(f"the rig has no engine {request.param}")
    return found[0]


@pytest.fixture
def engine(rig_engine: Any) -> Iterator[ops.Engine]:
    engine = ops.Engine(ops.HostConn(rig_engine.name, rig_engine.docker_url, timeout=30))
    yield engine
    engine.close()


class Rentals:
    """Creates test containers and remembers them, so teardown removes them.

    The rig plugin attaches every rig container's logs to a failing test's report.
    """

    def __init__(self, engine: ops.Engine, rig_engine: Any) -> None:
        self.engine, self.rig_engine = engine, rig_engine
        self.cids: list[str] = []

    def spec(self, suffix: str, ports: dict[int, int], gpu_ids: list[str]) -> ops.ContainerSpec:
        name = f"{PREFIX}{suffix}-{secrets.token_hex(3)}"
        workspace = Path(self.rig_engine.workspace_root) / name
        workspace.mkdir(parents=True, exist_ok=True)
        return ops.ContainerSpec(
            name=name, image=IMAGE, hostname=suffix, labels={LABEL: name},
            gpu_ids=gpu_ids, ports=ports, workspace_dir=str(workspace),
            env={}, jupyter_token=secrets.token_hex(8), shm_size="256m", mem_limit=None,
            nano_cpus=None, ulimits=host_ulimits(),
        )

    async def start(self, spec: ops.ContainerSpec) -> str:
        cid = await ops.create_and_start(self.engine, spec)
        self.cids.append(cid)
        return cid

    async def close(self) -> None:
        for cid in self.cids:
            with contextlib.suppress(ops.DockerOpsError):
                await ops.remove(self.engine, cid)


@pytest.fixture
async def rentals(engine: ops.Engine, rig_engine: Any) -> AsyncIterator[Rentals]:
    made = Rentals(engine, rig_engine)
    try:
        yield made
    finally:
        await made.close()


def ssh_run(address: str, port: int, password: str, command: str) -> str:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(address, port=port, username="root", password=password,
                   look_for_keys=False, allow_agent=False, timeout=10)
    try:
        _, stdout, _ = client.exec_command(command, timeout=10)
        return str(stdout.read().decode().strip())
    finally:
        client.close()


def http_status(address: str, port: int) -> int:
    with urllib.request.urlopen(f"http://{address}:{port}/", timeout=5) as answer:
        return int(answer.status)


async def names_on(engine: ops.Engine) -> set[str]:
    return {info.name for info in await ops.list_ours(engine, LABEL)}


async def test_rental_container_is_reachable_by_ssh_and_jupyter_with_its_password(
    engine: ops.Engine, rig_engine: Any, rentals: Rentals
) -> None:
    ssh_port, jupyter_port = free_port(rig_engine.address), free_port(rig_engine.address)
    spec = rentals.spec("ready", {22: ssh_port, 8888: jupyter_port}, ["0", "1"])
    started = time.monotonic()
    cid = await rentals.start(spec)
    created = time.monotonic()
    password = secrets.token_urlsafe(18)
    await ops.set_root_password(engine, cid, password)
    await ops.wait_ready(engine, rig_engine.address, ssh_port, jupyter_port, timeout=60)
    ready = time.monotonic()

    uid = await asyncio.to_thread(ssh_run, rig_engine.address, ssh_port, password,
                                  "id -u && echo hello > /workspace/hello.txt")
    logged_in = time.monotonic()
    print(f"create+start {created - started:.2f} s, password+ready {ready - created:.2f} s,"
          f" ssh {logged_in - ready:.2f} s")
    assert uid == "0"
    assert (Path(spec.workspace_dir) / "hello.txt").read_text() == "hello\n"
    assert await asyncio.to_thread(http_status, rig_engine.address, jupyter_port) == 200

    with contextlib.closing(rig_engine.client()) as client:
        attrs = client.api.inspect_container(cid)
    (request,) = attrs["HostConfig"]["DeviceRequests"]
    assert request["DeviceIDs"] == ["0", "1"] and request["Capabilities"] == [["gpu"]]
    assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert password not in json.dumps(attrs)
    assert password not in await ops.logs(engine, cid)
    assert {ssh_port, jupyter_port} <= await ops.published_ports(engine)
    assert spec.name in await names_on(engine)


async def test_stop_start_and_double_remove(
    engine: ops.Engine, rig_engine: Any, rentals: Rentals
) -> None:
    port = free_port(rig_engine.address)
    cid = await rentals.start(rentals.spec("cycle", {22: port}, ["0"]))
    assert await ops.inspect_state(engine, cid) == "running"
    started = time.monotonic()
    await ops.stop(engine, cid)
    assert time.monotonic() - started < 5, "the entry script must stop on TERM"
    assert await ops.inspect_state(engine, cid) == "exited"
    assert port in await ops.published_ports(engine), "a stopped container keeps its ports"
    await ops.start(engine, cid)
    await ops.restart(engine, cid)
    assert await ops.inspect_state(engine, cid) == "running"
    await ops.remove(engine, cid)
    await ops.remove(engine, cid)
    with pytest.raises(ops.ContainerGoneError):
        await ops.inspect_state(engine, cid)


async def test_taken_port_is_port_in_use_and_leaves_no_container(
    engine: ops.Engine, rig_engine: Any, rentals: Rentals
) -> None:
    with socket.socket() as squatter:
        squatter.bind((rig_engine.address, 0))
        squatter.listen()
        port = int(squatter.getsockname()[1])
        spec = rentals.spec("port", {22: port}, ["0"])
        with pytest.raises(ops.PortInUseError) as caught:
            await rentals.start(spec)
    assert caught.value.port == port and caught.value.transient
    assert spec.name not in await names_on(engine)


async def test_gpu_hook_fault_is_start_error_and_leaves_no_container(
    engine: ops.Engine, rig_engine: Any, rentals: Rentals
) -> None:
    spec = rentals.spec("hook", {22: free_port(rig_engine.address)}, ["0", "1"])
    rig_engine.fail_gpu_hook(True)
    try:
        with pytest.raises(ops.ContainerStartError) as caught:
            await rentals.start(spec)
    finally:
        rig_engine.fail_gpu_hook(False)
    assert "GPU" in caught.value.message and not caught.value.transient
    assert spec.name not in await names_on(engine)


async def test_stopped_daemon_is_host_unreachable(engine: ops.Engine, rig_engine: Any) -> None:
    rig_engine.stop_daemon()
    try:
        with pytest.raises(ops.HostUnreachableError):
            await engine.ping()
        with pytest.raises(ops.HostUnreachableError):
            await ops.list_ours(engine)
    finally:
        rig_engine.start_daemon()
    info = await engine.ping()
    assert info.labels and info.server_version


async def _push_unique_image(engine: ops.Engine, rig_engine: Any, rentals: Rentals,
                             registry: str) -> str:
    """A fresh image in the rig registry whose top layer no engine has seen."""
    cid = await rentals.start(rentals.spec("pull", {}, []))
    with contextlib.closing(rig_engine.client()) as client:
        exec_id = client.api.exec_create(
            cid, ["sh", "-c", "head -c 3000000 /dev/urandom > /root/blob"])["Id"]
        client.api.exec_start(exec_id)
        repo, tag = f"{registry}/gpurent-test/pull", secrets.token_hex(4)
        await ops.commit(engine, cid, repo, tag)
        for line in client.api.push(repo, tag=tag, stream=True, decode=True):
            assert "error" not in line, line
        client.api.remove_image(f"{repo}:{tag}")
    return f"{repo}:{tag}"


async def test_pull_from_registry_reports_progress(
    engine: ops.Engine, rig_engine: Any, rentals: Rentals, rig_registry: str
) -> None:
    ref = await _push_unique_image(engine, rig_engine, rentals, rig_registry)
    assert not await ops.image_present(engine, ref)
    seen: list[tuple[int, int]] = []
    started = time.monotonic()
    assert await ops.ensure_image(engine, ref, lambda done, total: seen.append((done, total)))
    print(f"pull {time.monotonic() - started:.2f} s, {len(seen)} progress calls")
    assert seen and all(done <= total for done, total in seen)
    assert seen[-1][0] == seen[-1][1] > 3_000_000
    assert await ops.image_present(engine, ref)
    assert not await ops.ensure_image(engine, ref, None)


async def test_pull_of_an_unknown_tag_is_a_permanent_pull_error(
    engine: ops.Engine, rig_registry: str
) -> None:
    with pytest.raises(ops.ImagePullError) as caught:
        await ops.pull(engine, f"{rig_registry}/nvidia/pytorch:no-such-tag", None)
    assert not caught.value.transient


async def test_pull_from_a_stopped_registry_is_a_transient_pull_error(
    engine: ops.Engine, clean_rig: Any, rig_registry: str
) -> None:
    clean_rig.stop_registry()
    try:
        with pytest.raises(ops.ImagePullError) as caught:
            await ops.pull(engine, f"{rig_registry}/nvidia/pytorch:23.10-py3", None)
    finally:
        clean_rig.start_registry()
    assert caught.value.transient
