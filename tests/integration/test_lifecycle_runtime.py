"""The lifecycle's Docker side on real engines: workspace delete/move through a throwaway
helper container, and revival by commit + recreate keeping system files and the token."""

from __future__ import annotations

import contextlib
import resource
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import HostConfig
from bot.ports import RunSpec, RuntimeFaultError
from docker_ops.runtime import DockerRuntime

pytestmark = pytest.mark.rig

IMAGE = "gpurent/test-base:latest"


@pytest.fixture
def rig_engine(clean_rig: Any) -> Any:
    return clean_rig.engines[0]


@pytest.fixture
def runtime(rig_engine: Any) -> Iterator[DockerRuntime]:
    host = HostConfig(name=rig_engine.name, docker_url=rig_engine.docker_url,
                      public_address=rig_engine.address,
                      workspace_root=str(rig_engine.workspace_root))
    made = DockerRuntime([host])
    yield made
    made.close()


def helpers_left(rig_engine: Any) -> list[str]:
    client = rig_engine.client()
    try:
        return [c.name for c in client.containers.list(all=True,
                                                        filters={"label": "gpurent.helper"})]
    finally:
        client.close()


async def test_a_workspace_is_deleted_through_a_helper_and_gone_counts_as_done(
        runtime: DockerRuntime, rig_engine: Any) -> None:
    root = Path(rig_engine.workspace_root)
    (root / "u42" / "deep").mkdir(parents=True)
    (root / "u42" / "deep" / "weights.bin").write_bytes(b"x" * 1000)
    (root / "u43").mkdir()
    await runtime.remove_dir(rig_engine.name, IMAGE, str(root), "u42")
    assert not (root / "u42").exists() and (root / "u43").exists()
    await runtime.remove_dir(rig_engine.name, IMAGE, str(root), "u42")
    assert helpers_left(rig_engine) == []


async def test_a_workspace_is_moved_to_the_archive(runtime: DockerRuntime,
                                                   rig_engine: Any, tmp_path: Path) -> None:
    root, archive = Path(rig_engine.workspace_root), tmp_path / "archive"
    (root / "u44").mkdir(parents=True)
    (root / "u44" / "notes.txt").write_text("keep me")
    await runtime.move_dir(rig_engine.name, IMAGE, str(root), "u44", str(archive), "u44-x")
    assert (archive / "u44-x" / "notes.txt").read_text() == "keep me"
    assert not (root / "u44").exists()
    await runtime.move_dir(rig_engine.name, IMAGE, str(root), "u44", str(archive), "u44-y")
    assert not (archive / "u44-y").exists() and helpers_left(rig_engine) == []


async def test_odd_names_and_missing_images_are_refused(runtime: DockerRuntime,
                                                        rig_engine: Any) -> None:
    root = str(rig_engine.workspace_root)
    with pytest.raises(RuntimeFaultError):
        await runtime.remove_dir(rig_engine.name, IMAGE, root, "..")
    with pytest.raises(RuntimeFaultError) as missing:
        await runtime.remove_dir(rig_engine.name, "gpurent/absent:1", root, "u1")
    assert missing.value.kind == "pull"


def spec(rig_engine: Any, name: str, image: str, env: dict[str, str]) -> RunSpec:
    workspace = Path(rig_engine.workspace_root) / name
    workspace.mkdir(parents=True, exist_ok=True)
    _soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    return RunSpec(name=name, image=image, hostname="r1",
                   labels={"gpurent.rental": name}, gpu_ids=(), ports={},
                   workspace_dir=str(workspace), env=env, shm_size="64m",
                   memlock=-1 if hard == resource.RLIM_INFINITY else hard)


async def test_a_committed_container_comes_back_with_its_system_files_and_token(
        runtime: DockerRuntime, rig_engine: Any) -> None:
    token = secrets.token_hex(8)
    name = f"gpurent-test-rev-{secrets.token_hex(3)}"
    client = rig_engine.client()
    made: list[str] = []
    try:
        old = await runtime.run(rig_engine.name, spec(rig_engine, name, IMAGE,
                                                      {"JUPYTER_TOKEN": token}))
        made.append(old)
        assert client.containers.get(old).exec_run(["touch", "/root/installed"]).exit_code == 0
        await runtime.stop(rig_engine.name, old)
        await runtime.commit(rig_engine.name, old, "gpurent/r-test", "rev1")
        new = await runtime.run(rig_engine.name, spec(rig_engine, name + "-rev1",
                                                      "gpurent/r-test:rev1", {}))
        made.append(new)
        box = client.containers.get(new)
        assert box.exec_run(["ls", "/root/installed"]).exit_code == 0
        assert f"JUPYTER_TOKEN={token}" in box.attrs["Config"]["Env"]
    finally:
        for cid in made:
            with contextlib.suppress(RuntimeFaultError):
                await runtime.remove(rig_engine.name, cid)
        with contextlib.suppress(Exception):
            client.images.remove("gpurent/r-test:rev1", force=True)
        client.close()
