"""The lifecycle's Docker side on real engines: workspace delete/move through a throwaway
helper container, and revival by commit + recreate keeping system files and the token."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.config import HostConfig
from bot.ports import RunSpec, RuntimeFaultError
from docker_ops import helper
from docker_ops.engine import Engine, HostConn
from docker_ops.entry import TOKEN_FILE
from docker_ops.errors import DockerOpsError
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


def hostile_workspace(path: Path) -> None:
    """What a student's root can leave behind: files of another user in closed directories,
    a sticky directory, a read-only file, a symlink pointing out of the workspace."""
    (path / "deep").mkdir(parents=True)
    (path / "deep" / "weights.bin").write_bytes(b"x" * 1000)
    (path / ".hidden").write_text("dot")
    (path / "sticky").mkdir()
    (path / "sticky" / "theirs").write_text("t")
    os.chmod(path / "sticky", 0o1777)
    (path / "out").symlink_to("/etc")
    for item in (path / "deep" / "weights.bin", path / "deep", path / "sticky" / "theirs"):
        os.chown(item, 1000, 1000, follow_symlinks=False)
    os.chown(path / "sticky", 1001, 1001)  # deleting "theirs" in it needs FOWNER
    os.chmod(path / "deep" / "weights.bin", 0o400)
    os.chmod(path / "deep", 0o700)


async def test_a_workspace_is_emptied_through_a_helper_and_gone_counts_as_done(
        runtime: DockerRuntime, rig_engine: Any) -> None:
    root = Path(rig_engine.workspace_root)
    hostile_workspace(root / "u42")
    (root / "u43").mkdir()
    (root / "u43" / "keep").write_text("other student")
    await runtime.remove_dir(rig_engine.name, IMAGE, str(root), "u42")
    # the helper sees only u42, so it cannot remove u42 itself: it is left empty
    assert list((root / "u42").iterdir()) == [] and (root / "u43" / "keep").exists()
    assert Path("/etc/hostname").exists()  # the symlink was removed, not followed
    shutil.rmtree(root / "u42")
    await runtime.remove_dir(rig_engine.name, IMAGE, str(root), "u42")
    assert not (root / "u42").exists()  # not made by the bind either
    assert helpers_left(rig_engine) == []


@pytest.mark.parametrize("caps", [(), ("DAC_OVERRIDE",), ("FOWNER",)])
async def test_without_each_of_its_capabilities_the_helper_cannot_delete_a_students_files(
        rig_engine: Any, caps: tuple[str, ...]) -> None:
    path = Path(rig_engine.workspace_root) / "u45"
    hostile_workspace(path)
    engine = Engine(HostConn(rig_engine.name, rig_engine.docker_url))
    try:
        with pytest.raises(DockerOpsError):
            await helper.run(engine, IMAGE, helper.Job(helper.DELETE_ARGV, str(path), caps))
        assert (path / "sticky" / "theirs").exists() or (path / "deep").exists()
        await helper.delete_dir(engine, IMAGE, str(path))  # DAC_OVERRIDE + FOWNER suffice
        assert list(path.iterdir()) == []
    finally:
        engine.close()


async def test_a_workspace_is_archived_with_owners_and_modes(
        runtime: DockerRuntime, rig_engine: Any, tmp_path: Path) -> None:
    root, archive = Path(rig_engine.workspace_root), tmp_path / "archive"
    hostile_workspace(root / "u44")
    (root / "u44" / "notes.txt").write_text("keep me")
    await runtime.move_dir(rig_engine.name, IMAGE, str(root), "u44", str(archive), "u44-x")
    kept = archive / "u44-x"
    assert (kept / "notes.txt").read_text() == "keep me"
    weights = (kept / "deep" / "weights.bin").stat()
    assert (weights.st_uid, weights.st_mode & 0o777) == (1000, 0o400)
    assert (kept / "sticky").stat().st_mode & 0o7777 == 0o1777
    assert os.readlink(kept / "out") == "/etc"
    assert list((root / "u44").iterdir()) == []
    shutil.rmtree(root / "u44")
    await runtime.move_dir(rig_engine.name, IMAGE, str(root), "u44", str(archive), "u44-y")
    assert not (archive / "u44-y").exists() and helpers_left(rig_engine) == []


async def test_odd_names_and_missing_images_are_refused(runtime: DockerRuntime,
                                                        rig_engine: Any) -> None:
    root = str(rig_engine.workspace_root)
    with pytest.raises(RuntimeFaultError):
        await runtime.remove_dir(rig_engine.name, IMAGE, root, "..")
    (Path(root) / "u1").mkdir()  # (a workspace already gone needs no helper at all)
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
        old = await runtime.run(rig_engine.name, replace(spec(rig_engine, name, IMAGE, {}),
                                                         jupyter_token=token))
        made.append(old)
        assert client.containers.get(old).exec_run(["touch", "/root/installed"]).exit_code == 0
        await runtime.stop(rig_engine.name, old)
        await runtime.commit(rig_engine.name, old, "gpurent/r-test", "rev1")
        new = await runtime.run(rig_engine.name, spec(rig_engine, name + "-rev1",
                                                      "gpurent/r-test:rev1", {}))
        made.append(new)
        box = client.containers.get(new)
        assert box.exec_run(["ls", "/root/installed"]).exit_code == 0
        assert token not in json.dumps(box.attrs)  # not in the environment
        assert token not in json.dumps(client.api.inspect_image("gpurent/r-test:rev1"))
        # the root-only file came along in the commit: Jupyter starts with the same token
        assert box.exec_run(["cat", TOKEN_FILE]).output.decode() == token
    finally:
        for cid in made:
            with contextlib.suppress(RuntimeFaultError):
                await runtime.remove(rig_engine.name, cid)
        with contextlib.suppress(Exception):
            client.images.remove("gpurent/r-test:rev1", force=True)
        client.close()
