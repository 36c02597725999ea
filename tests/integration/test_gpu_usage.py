"""GPU usage of a host the bot cannot read through NVML, on real engines: the runtime runs
``nvidia-smi`` in each running rental's container. The test image has none; a fake one is
copied into a container, printing what the test writes into that rental's workspace."""

from __future__ import annotations

import contextlib
import io
import logging
import resource
import secrets
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import HostConfig
from bot.ports import GpuReading, RunSpec, RuntimeFaultError
from docker_ops import smi
from docker_ops.gpus import NoGpuProbe
from docker_ops.runtime import DockerRuntime

pytestmark = pytest.mark.rig

IMAGE = "gpurent/test-base:latest"
MIB = 1 << 20
FAKE_SMI = b"""#!/bin/sh
# Prints what the test put in the workspace; sleeps or fails when told to.
[ -e /workspace/smi.sleep ] && sleep 60
cat /workspace/smi.out
exit "$(cat /workspace/smi.rc 2>/dev/null || echo 0)"
"""


def with_fake_smi(client: Any, cid: str) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("nvidia-smi")
        info.size, info.mode = len(FAKE_SMI), 0o755
        tar.addfile(info, io.BytesIO(FAKE_SMI))
    assert client.api.put_archive(cid, "/usr/local/bin", buf.getvalue())


class Rig:
    """Rental containers on one engine, read through the real runtime."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.client, self.cids = engine, engine.client(), []
        host = HostConfig(name=engine.name, docker_url=engine.docker_url,
                          public_address=engine.address,
                          workspace_root=str(engine.workspace_root))
        self.runtime = DockerRuntime([host], probe=NoGpuProbe())

    async def rental(self, gpus: tuple[str, ...], fake_smi: bool = True) -> Path:
        name = f"gpurent-test-smi-{secrets.token_hex(3)}"
        workspace = Path(self.engine.workspace_root) / name
        workspace.mkdir(parents=True)
        _soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
        cid = await self.runtime.run(self.engine.name, RunSpec(
            name=name, image=IMAGE, hostname="r1", labels={"gpurent.rental": name},
            gpu_ids=gpus, ports={}, workspace_dir=str(workspace), env={}, shm_size="64m",
            memlock=-1 if hard == resource.RLIM_INFINITY else hard))
        self.cids.append(cid)
        if fake_smi:
            with_fake_smi(self.client, cid)
        return workspace

    async def usage(self) -> list[GpuReading]:
        return await self.runtime.gpu_usage(self.engine.name)

    async def close(self) -> None:
        for cid in self.cids:
            with contextlib.suppress(RuntimeFaultError):
                await self.runtime.remove(self.engine.name, cid)
        self.runtime.close()
        self.client.close()


@pytest.fixture
async def rig(clean_rig: Any) -> AsyncIterator[Rig]:
    made = Rig(clean_rig.engines[0])
    try:
        yield made
    finally:
        await made.close()


async def test_each_rentals_gpus_are_read_inside_its_container_and_mapped_to_host_ids(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    holds_1 = await rig.rental(("1",))
    (holds_1 / "smi.out").write_text("0, GPU-11111111-aaaa, 73, 2048, 81920, 40\n"
                                     "1, GPU-22222222-bbbb, 100, 9, 9, 9\n")  # not its GPU
    await rig.rental(("0",), fake_smi=False)  # an image without nvidia-smi
    caplog.set_level(logging.WARNING, logger="docker_ops.usage")
    assert await rig.usage() == [GpuReading("1", 73, 2048 * MIB, 81920 * MIB, 40)]
    (holds_1 / "smi.out").write_text("0, GPU-11111111-aaaa, 5, 100, 81920, 52\n")
    assert await rig.usage() == [GpuReading("1", 5, 100 * MIB, 81920 * MIB, 52)]
    missing = [r for r in caplog.records if "no nvidia-smi" in r.getMessage()]
    assert len(missing) == 1  # logged once, not every tick


async def test_a_two_gpu_rental_maps_its_rows_in_host_order(rig: Rig) -> None:
    workspace = await rig.rental(("1", "0"))
    (workspace / "smi.out").write_text("1, b, 20, 1, 2, 3\n0, a, 10, 1, 2, 3\n")
    assert [(r.gpu_index, r.utilization) for r in await rig.usage()] == [("0", 10), ("1", 20)]


async def test_hostile_or_failing_output_gives_no_reading_and_no_error(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = await rig.rental(("0",))
    (workspace / "smi.out").write_text("0, [N/A], [Not Supported], [N/A], [N/A], [N/A]\n")
    assert await rig.usage() == [GpuReading("0", None, 0, 0)]
    (workspace / "smi.out").write_bytes(b"\xff\xfe\x00garbage,,,\n" * 5000)
    assert await rig.usage() == []
    (workspace / "smi.out").write_text("NVIDIA-SMI has failed because it couldn't "
                                       "communicate with the NVIDIA driver.\n")
    (workspace / "smi.rc").write_text("9")
    assert await rig.usage() == []
    monkeypatch.setattr(smi, "READ_TIMEOUT", 1.0)
    (workspace / "smi.sleep").touch()
    assert await rig.usage() == []


async def test_a_stopped_rental_is_skipped_and_a_down_host_is_a_fault(rig: Rig,
                                                                       clean_rig: Any) -> None:
    workspace = await rig.rental(("0",))
    (workspace / "smi.out").write_text("0, a, 50, 1, 2, 3\n")
    await rig.runtime.stop(rig.engine.name, rig.cids[0])
    assert await rig.usage() == []
    rig.engine.stop_daemon()
    with pytest.raises(RuntimeFaultError) as down:
        await rig.usage()
    assert down.value.kind == "unreachable"
