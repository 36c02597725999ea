"""The rig itself: two GPU-server engines, the test image, GPU faults, the loopback registry."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest
import requests
from docker.models.containers import Container

from tests.rig.engines import Engine
from tests.rig.rig import Rig

pytestmark = pytest.mark.rig
GPU_REQUEST = docker.types.DeviceRequest(device_ids=["0", "1"], capabilities=[["gpu"]])
# sshd and the Jupyter stand-in, started the way the product's entry script would.
SERVE = (
    "ssh-keygen -A >/dev/null && mkdir -p /run/sshd && /usr/sbin/sshd"
    " && exec jupyter-lab --ip 0.0.0.0 --port 8888 --notebook-dir /srv --allow-root"
)


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {check.__name__}"
        time.sleep(0.05)


def gpu_container(engine: Engine, command: list[str] | None = None) -> Container:
    with contextlib.closing(engine.client()) as client:
        return client.containers.create(
            "nvcr.io/nvidia/pytorch:20.12-py3",
            command,
            name=f"rigtest-{engine.name.lower()}",
            device_requests=[GPU_REQUEST],
            ports={"22/tcp": 10022, "8888/tcp": 18888},
        )


def ssh_banner(address: str, port: int) -> bool:
    # docker-proxy accepts before sshd listens, so only the banner says "ready".
    with contextlib.suppress(OSError), socket.create_connection((address, port), 1) as sock:
        return sock.recv(4).startswith(b"SSH-")
    return False


def http_ok(url: str) -> bool:
    with contextlib.suppress(requests.exceptions.RequestException), requests.Session() as http:
        http.trust_env = False
        return http.get(url, timeout=1).status_code == 200
    return False


def serve_on(engine: Engine) -> Container:
    container = gpu_container(engine, ["sh", "-c", SERVE])
    container.start()
    wait_for(lambda: ssh_banner(engine.address, 10022))
    wait_for(lambda: http_ok(f"http://{engine.address}:18888/"))
    container.reload()
    return container


def test_gpu_containers_serve_ssh_and_jupyter_on_the_same_ports_of_both_engines(
    engines: list[Engine],
) -> None:
    with ThreadPoolExecutor(len(engines)) as pool:
        containers = list(pool.map(serve_on, engines))
    for engine, container in zip(engines, containers, strict=True):
        assert container.status == "running"
        host_config = container.attrs["HostConfig"]
        assert host_config["DeviceRequests"][0]["DeviceIDs"] == engine.gpu_ids
        assert host_config["DeviceRequests"][0]["Capabilities"] == [["gpu"]]
        bindings = container.attrs["NetworkSettings"]["Ports"]["22/tcp"]
        assert {b["HostIp"] for b in bindings} == {engine.address}
        assert '"status":"creating"' in engine.hook_log.read_text()


def test_failing_gpu_hook_makes_start_fail_until_restored(engines: list[Engine]) -> None:
    engine = engines[0]
    engine.fail_gpu_hook(True)
    container = gpu_container(engine)
    with pytest.raises(docker.errors.APIError, match="hook"):
        container.start()
    container.reload()
    assert container.status == "created"
    engine.fail_gpu_hook(False)
    container.start()
    container.reload()
    assert container.status == "running"


def test_engines_are_told_apart_by_labels(engines: list[Engine]) -> None:
    labels = []
    for engine in engines:
        with contextlib.closing(engine.client()) as client:
            labels.append(client.info()["Labels"])
    assert labels == [[engine.label] for engine in engines]
    assert [engine.name for engine in engines] == ["HPC1", "HPC2"]


def pull(engine: Engine, ref: str) -> set[str]:
    with contextlib.closing(engine.client()) as client:
        events = list(client.api.pull(ref, stream=True, decode=True))
    assert not [event for event in events if "error" in event]
    return {str(event.get("status")) for event in events}


def test_custom_image_is_really_pulled_from_the_loopback_registry(
    clean_rig: Rig, rig_registry: str
) -> None:
    ref = clean_rig.registry_image
    assert ref.startswith(f"{rig_registry}/nvidia/pytorch:")
    with ThreadPoolExecutor(len(clean_rig.engines)) as pool:
        statuses = list(pool.map(lambda engine: pull(engine, ref), clean_rig.engines))
    for status in statuses:
        assert {"Downloading", "Pull complete"} <= status
    with contextlib.closing(clean_rig.engines[1].client()) as client:
        client.containers.run(ref, ["true"], remove=True)
        with pytest.raises(docker.errors.NotFound):
            client.images.pull(f"{rig_registry}/nvidia/pytorch", tag="no-such-tag")


def test_stopped_registry_makes_pulls_fail_until_started(clean_rig: Rig, rig_registry: str) -> None:
    ref = clean_rig.registry_image
    with contextlib.closing(clean_rig.engines[0].client()) as client:
        clean_rig.stop_registry()
        with pytest.raises(docker.errors.APIError, match="connection refused"):
            client.images.pull(ref)
        clean_rig.start_registry()
        assert client.api.inspect_distribution(ref)["Descriptor"]["digest"].startswith("sha256:")


def test_stopped_daemon_is_unreachable_and_comes_back_with_its_images(
    engines: list[Engine],
) -> None:
    down, other = engines
    client = down.client()
    down.stop_daemon()
    with pytest.raises(requests.exceptions.ConnectionError):
        client.ping()
    with contextlib.closing(other.client()) as other_client:
        assert other_client.ping()
    down.start_daemon()
    assert client.ping()
    assert client.images.get("gpurent/test-base:latest")
    client.close()


def test_reset_removes_containers_and_foreign_images_and_restores_test_tags(rig: Rig) -> None:
    engine = rig.engines[0]
    with contextlib.closing(engine.client()) as client:
        client.containers.run("gpurent/test-base:latest", detach=True, name="rigtest-leftover")
        client.images.get("gpurent/test-base:latest").tag("scratch/extra", "1")
        client.images.remove("nvcr.io/nvidia/tensorflow:20.12-tf2-py3")
        engine.fail_gpu_hook(True)
        rig.reset()
        assert client.containers.list(all=True) == []
        tags = {tag for image in client.images.list() for tag in image.tags}
        assert tags == set(rig.test_images)
        assert not engine.hook_flag.exists()
