"""What a student's container may not do to the host or to other students, on real engines:
limits on by default, no-new-privileges with real SSH logins still working, nothing of the host
mounted, no secret in `docker inspect` of the container or of its revival image, and custom
images run by the digest just pulled, never by a name found on the host."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from bot.config import HostConfig
from bot.ports import RunSpec, RuntimeFaultError
from docker_ops.containers import DEFAULT_PIDS_LIMIT, derived_limits
from docker_ops.entry import TOKEN_FILE
from docker_ops.runtime import DockerRuntime

pytestmark = pytest.mark.rig

IMAGE = "gpurent/test-base:latest"


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def ssh_run(address: str, port: int, password: str, command: str) -> str:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(address, port=port, username="root", password=password,
                   look_for_keys=False, allow_agent=False, timeout=15)
    try:
        _, stdout, _ = client.exec_command(command, timeout=15)
        return str(stdout.read().decode().strip())
    finally:
        client.close()


class World:
    """A DockerRuntime on the rig's first engine; what it made is removed afterwards."""

    def __init__(self, rig_engine: Any) -> None:
        self.rig_engine, self.host = rig_engine, rig_engine.name
        self.runtime = DockerRuntime([HostConfig(
            name=rig_engine.name, docker_url=rig_engine.docker_url,
            public_address=rig_engine.address, workspace_root=str(rig_engine.workspace_root))])
        self.cids: list[str] = []
        self.client = rig_engine.client()

    def spec(self, image: str = IMAGE, token: str = "", **ports: int) -> RunSpec:
        name = f"gpurent-test-conf-{secrets.token_hex(3)}"
        workspace = Path(self.rig_engine.workspace_root) / name
        _soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
        return RunSpec(name=name, image=image, hostname="r1", labels={"gpurent.rental": name},
                       gpu_ids=("0",), ports={22: ports["ssh"], 8888: ports["jupyter"]},
                       workspace_dir=str(workspace), env={}, shm_size="64m",
                       memlock=-1 if hard == resource.RLIM_INFINITY else hard,
                       jupyter_token=token, host_gpus=2)

    async def run(self, spec: RunSpec) -> str:
        cid = await self.runtime.run(self.host, spec)
        self.cids.append(cid)
        return cid

    async def close(self) -> None:
        for cid in self.cids:
            with contextlib.suppress(RuntimeFaultError):
                await self.runtime.remove(self.host, cid)
        self.client.close()
        self.runtime.close()


@pytest.fixture
async def world(clean_rig: Any) -> AsyncIterator[World]:
    made = World(clean_rig.engines[0])
    try:
        yield made
    finally:
        await made.close()


def assert_confined(attrs: dict[str, Any], workspace: str) -> None:
    host_config = attrs["HostConfig"]
    assert host_config["PidsLimit"] == DEFAULT_PIDS_LIMIT
    assert host_config["SecurityOpt"] == ["no-new-privileges"]
    assert host_config["Privileged"] is False and not host_config["CapAdd"]
    for mode in ("NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode"):
        assert host_config.get(mode) != "host", mode
    assert not host_config.get("Devices")
    assert [(m["Source"], m["Destination"]) for m in attrs["Mounts"]] == [
        (workspace, "/workspace")]
    assert "docker.sock" not in json.dumps(attrs)


async def test_a_rental_is_confined_logs_in_by_ssh_and_inspect_shows_no_secret(
        world: World) -> None:
    address = world.rig_engine.address
    ssh, jupyter = free_port(address), free_port(address)
    token, password = secrets.token_hex(16), secrets.token_urlsafe(18)
    spec = world.spec(token=token, ssh=ssh, jupyter=jupyter)
    cid = await world.run(spec)
    await world.runtime.set_root_password(world.host, cid, password)
    await world.runtime.wait_ready(world.host, address, ssh, jupyter, 60)

    # sshd's privilege separation works under no-new-privileges: a real password login
    said = await asyncio.to_thread(ssh_run, address, ssh, password, (
        "grep NoNewPrivs /proc/self/status; stat -c %a /workspace; "
        f"stat -c %a:%U {TOKEN_FILE}; cat {TOKEN_FILE}; echo; cat /proc/1/environ | tr '\\0' ' '"))
    lines = said.splitlines()
    assert lines[0].split() == ["NoNewPrivs:", "1"]
    assert lines[1:4] == ["700", "600:root", token]
    assert "JUPYTER_TOKEN" not in lines[4]  # PID 1 never had it

    attrs = world.client.api.inspect_container(cid)
    assert_confined(attrs, spec.workspace_dir)
    info = await world.runtime.info(world.host)
    memory, cpus = derived_limits(info.mem_total, info.ncpu, 1, 2)  # 1 of the host's 2 GPUs
    assert (attrs["HostConfig"]["Memory"], attrs["HostConfig"]["NanoCpus"]) == (memory, cpus)
    assert token not in json.dumps(attrs) and password not in json.dumps(attrs)

    await world.runtime.stop(world.host, cid)
    repo, tag = "gpurent/r-test-conf", f"rev1-{secrets.token_hex(6)}"
    await world.runtime.commit(world.host, cid, repo, tag)
    try:
        image = json.dumps(world.client.api.inspect_image(f"{repo}:{tag}"))
        assert token not in image and password not in image
        # the revival starts Jupyter with the token its committed file holds
        again = world.spec(image=f"{repo}:{tag}", ssh=free_port(address),
                           jupyter=free_port(address))
        new = await world.run(again)
        await world.runtime.wait_ready(world.host, address, again.ports[22],
                                       again.ports[8888], 60)
        assert token not in json.dumps(world.client.api.inspect_container(new))
    finally:
        for made in world.cids[1:]:
            await world.runtime.remove(world.host, made)
        world.client.images.remove(f"{repo}:{tag}", force=True)


async def test_a_container_whose_token_never_comes_serves_no_jupyter(world: World) -> None:
    address = world.rig_engine.address
    ssh, jupyter = free_port(address), free_port(address)
    cid = await world.run(world.spec(ssh=ssh, jupyter=jupyter))  # no token handed over
    await world.runtime.set_root_password(world.host, cid, secrets.token_urlsafe(12))
    await world.runtime.wait_ready(world.host, address, ssh, None, 60)
    with pytest.raises(RuntimeFaultError):
        await world.runtime.wait_ready(world.host, address, ssh, jupyter, 3)


async def test_a_custom_image_runs_by_the_digest_pulled_not_a_local_impostor(
        world: World, rig_registry: str) -> None:
    ref = f"{rig_registry}/nvidia/pytorch:23.10-py3"
    name = ref.rsplit(":", 1)[0]
    box = world.client.containers.create(IMAGE, command=["true"])
    try:  # a local image that merely carries the name (as another rental's could)
        world.client.api.commit(box.id, repository=name, tag="23.10-py3",
                                changes=["LABEL impostor=1"])
    finally:
        box.remove(force=True)
    pinned = await world.runtime.pull_pinned(world.host, ref, None)
    assert pinned.startswith(f"{name}@sha256:") and len(pinned.rsplit(":", 1)[1]) == 64
    assert "impostor" not in json.dumps(world.client.api.inspect_image(pinned)["Config"])
    address = world.rig_engine.address
    cid = await world.run(world.spec(image=pinned, token="t" * 32, ssh=free_port(address),
                                     jupyter=free_port(address)))
    assert world.client.api.inspect_container(cid)["Config"]["Image"] == pinned
