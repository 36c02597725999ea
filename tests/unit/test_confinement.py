"""Issue 12: what a rental's container and the workspace helper are allowed, and which image a
student's own reference really runs (the rig tests in tests/integration/test_confinement.py
and test_lifecycle_runtime.py check the same on real engines)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.config import ConfigError, parse_config
from bot.usecases.container_spec import image_tag
from bot.usecases.provision import provision
from docker_ops import helper
from docker_ops.containers import ContainerSpec, create_kwargs, derived_limits
from models import queries
from models.states import State
from models.tables import Rental
from tests.unit.test_lifecycle import (
    START,
    FakeRuntime,
    make_services,
    rent,
    student,
)

GIB = 1024**3
PINNED = f"sha256:{'a' * 64}"


def _spec(**overrides: Any) -> ContainerSpec:
    values: dict[str, Any] = dict(
        name="gpurent-r1", image="nvcr.io/nvidia/pytorch:20.12-py3", hostname="r1",
        labels={"gpurent.rental": "1"}, gpu_ids=["0"], ports={22: 10022},
        workspace_dir="/srv/ws/u1", jupyter_token="secret-token")
    values.update(overrides)
    return ContainerSpec(**values)


def test_a_rental_container_has_limits_no_new_privileges_and_no_token_in_its_config() -> None:
    kwargs = create_kwargs(_spec())
    assert kwargs["pids_limit"] == 8192 and kwargs["security_opt"] == ["no-new-privileges"]
    assert kwargs["privileged"] is False and kwargs["cgroupns"] == "private"
    assert "secret-token" not in repr(kwargs) and kwargs["environment"] == {}
    assert kwargs["volumes"] == {"/srv/ws/u1": {"bind": "/workspace", "mode": "rw"}}
    for key in ("network_mode", "pid_mode", "ipc_mode", "userns_mode", "cap_add", "devices",
                "mounts"):
        assert key not in kwargs, key


def test_an_admin_may_turn_no_new_privileges_and_the_pids_limit_off_per_spec() -> None:
    kwargs = create_kwargs(_spec(no_new_privileges=False, pids_limit=None))
    assert "security_opt" not in kwargs and "pids_limit" not in kwargs


def test_unset_limits_are_the_rentals_gpu_share_of_the_host() -> None:
    assert derived_limits(1024 * GIB, 64, 1, 4) == (int(1024 * GIB * 0.9 / 4), 16 * 10**9)
    assert derived_limits(1024 * GIB, 64, 8, 8) == (int(1024 * GIB * 0.9), 64 * 10**9)
    # GPUs unknown: the whole host less headroom, never unlimited
    assert derived_limits(64 * GIB, 8, 1, 0) == (int(64 * GIB * 0.9), 8 * 10**9)


def test_the_helper_sees_one_directory_read_only_root_no_network_few_capabilities() -> None:
    kwargs = helper.helper_kwargs(PINNED, helper.Job(helper.DELETE_ARGV, "/data/ws/u1",
                                                     helper.DELETE_CAPS))
    assert kwargs["image"] == PINNED and kwargs["user"] == "0:0"
    assert kwargs["read_only"] and kwargs["network_disabled"]
    assert kwargs["cap_drop"] == ["ALL"] and kwargs["cap_add"] == ["DAC_OVERRIDE", "FOWNER"]
    assert kwargs["security_opt"] == ["no-new-privileges"]
    [mount] = kwargs["mounts"]
    assert (mount["Source"], mount["Target"], mount["Type"]) == ("/data/ws/u1", "/w", "bind")
    assert "volumes" not in kwargs  # not the workspace root, not another student's


def test_the_archive_helper_reads_the_workspace_and_writes_only_its_own_archive_slot() -> None:
    job = helper.Job(helper.COPY_ARGV, "/data/ws/u1", helper.ARCHIVE_CAPS,
                     source_read_only=True, dest="/archive/u1-20260101-0900")
    kwargs = helper.helper_kwargs(PINNED, job)
    assert kwargs["mounts"][0]["ReadOnly"] is True
    assert kwargs["volumes"] == {"/archive/u1-20260101-0900": {"bind": "/a", "mode": "rw"}}
    assert "SYS_ADMIN" not in kwargs["cap_add"] and "MKNOD" not in kwargs["cap_add"]


def _config(**lifecycle: Any) -> Any:
    return parse_config({"telegram": {"admins": [1]}, "hosts": [{"name": "h1"}],
                         "lifecycle": lifecycle})


@pytest.mark.parametrize("value", [PINNED, f"docker.io/library/busybox@{PINNED}",
                                   f"registry.lab:5000/tools/helper@{PINNED}"])
def test_a_pinned_helper_image_is_accepted(value: str) -> None:
    assert _config(helper_image=value).lifecycle.helper_image == value


@pytest.mark.parametrize("value", ["busybox", "busybox:1.36", "busybox@sha256:abc",
                                   f"busybox:latest@{PINNED[:-1]}"])
def test_an_unpinned_helper_image_is_refused_with_the_key_named(value: str) -> None:
    with pytest.raises(ConfigError, match="helper_image"):
        _config(helper_image=value)


def test_host_limits_are_configurable_within_bounds() -> None:
    cfg = parse_config({"telegram": {"admins": [1]},
                        "hosts": [{"name": "h1", "pids_limit": 100,
                                   "no_new_privileges": False}]})
    assert (cfg.hosts[0].pids_limit, cfg.hosts[0].no_new_privileges) == (100, False)
    for bad in (0, 10, 10**9):
        with pytest.raises(ConfigError, match="pids_limit"):
            parse_config({"telegram": {"admins": [1]},
                          "hosts": [{"name": "h1", "pids_limit": bad}]})


def test_revival_tags_carry_a_random_part() -> None:
    tags = {image_tag("rev", START) for _ in range(50)}
    assert len(tags) == 50
    assert all(re.fullmatch(rf"rev{int(START.timestamp())}-[0-9a-f]{{12}}", t) for t in tags)


def _custom(ref: str) -> Rental:
    return Rental.create(user=student(), state=State.APPROVED.value, image_key="custom",
                         image_ref=ref, gpus=1, unit="day", quantity=1, price=100,
                         purpose="thesis", created_at=queries.to_db(START),
                         decided_at=queries.to_db(START))


async def test_a_custom_image_is_always_pulled_and_run_by_its_digest(database: str) -> None:
    runtime = FakeRuntime()
    svc = make_services(runtime)
    ref = "docker.io/someone/trainer:1"
    runtime.images.add(("h1", ref))  # an image of that name is already on the host
    rental = _custom(ref)
    assert await provision(svc, rental.id)
    assert [c[1:] for c in runtime.named("pull_pinned")] == [("h1", ref)]
    assert runtime.named("ensure_image") == []
    [box] = runtime.boxes.values()
    assert box.spec.image == f"docker.io/someone/trainer@sha256:{'ab' * 32}"
    assert box.spec.env == {} and box.spec.jupyter_token


async def test_a_catalogue_image_is_used_as_it_is(database: str) -> None:
    runtime = FakeRuntime()
    svc = make_services(runtime)
    rental = await rent(svc, gpus=1)
    assert runtime.named("pull_pinned") == []
    [box] = runtime.boxes.values()
    assert box.spec.image == rental.image_ref


@pytest.mark.parametrize("ref", ["gpurent/r1:rev1", "ghcr.io/someone/x:1"])
async def test_a_reserved_or_disallowed_reference_never_runs(database: str, ref: str) -> None:
    runtime = FakeRuntime()
    svc = make_services(runtime)
    rental = _custom(ref)
    assert not await provision(svc, rental.id)
    assert runtime.boxes == {} and runtime.named("pull_pinned") == []
    assert Rental.get_by_id(rental.id).state == State.FAILED.value


def test_the_token_archive_holds_one_root_only_file() -> None:
    import io
    import tarfile

    from docker_ops.password import token_archive

    with tarfile.open(fileobj=io.BytesIO(token_archive("tok123"))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {"gpurent", "gpurent/jupyter-token"}
        assert members["gpurent"].isdir() and members["gpurent"].mode == 0o700
        token = members["gpurent/jupyter-token"]
        assert (token.mode, token.uid, token.gid) == (0o600, 0, 0)
        handle = tar.extractfile(token)
        assert handle is not None and handle.read() == b"tok123"
    with pytest.raises(ValueError):
        token_archive("two\nlines")
