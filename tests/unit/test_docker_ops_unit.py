"""docker_ops without a Docker daemon: error mapping, references, progress, entry script."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker.errors
import pynvml
import pytest
import requests

import docker_ops as ops
from docker_ops import errors, gpus, images
from docker_ops.containers import create_kwargs
from docker_ops.engine import make_client


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("boom", response=response, explanation=explanation)


PORT_TAKEN = (
    "driver failed programming external connectivity on endpoint gpurent-test-x (abc): "
    "Error starting userland proxy: listen tcp4 127.0.0.11:10022: bind: address already in use"
)
NO_DRIVER = 'could not select device driver "" with capabilities: [[gpu]]'
HOOK_FAILED = (
    "OCI runtime create failed: container_linux.go:380: starting container process caused: "
    "process_linux.go:545: container init caused: Running hook #0:: error running hook: "
    "exit status 1, stdout: , stderr: injected: unknown"
)


@pytest.mark.parametrize(
    ("exc", "kind", "transient"),
    [
        (requests.exceptions.ConnectionError("refused"), ops.HostUnreachableError, True),
        (requests.exceptions.ChunkedEncodingError("cut"), ops.HostUnreachableError, True),
        (requests.exceptions.SSLError("certificate verify failed"), ops.HostUnreachableError,
         False),
        (requests.exceptions.ReadTimeout("slow"), ops.HostUnreachableError, True),
        (docker.errors.DockerException("Error while fetching server API version: x"),
         ops.HostUnreachableError, True),
        (ConnectionResetError("reset"), ops.HostUnreachableError, True),
        (docker.errors.NotFound("No such container: x"), ops.ContainerGoneError, False),
        (docker.errors.ImageNotFound("No such image: x"), ops.ImagePullError, False),
        (api_error(500, PORT_TAKEN), ops.PortInUseError, True),
        (api_error(500, NO_DRIVER), ops.ContainerStartError, False),
        (api_error(500, HOOK_FAILED), ops.ContainerStartError, False),
        (api_error(409, 'Conflict. The container name "/x" is already in use by container "y"'),
         ops.NameConflictError, False),
        (api_error(409, "Container abc is not running"), ops.ContainerNotRunningError, False),
        (api_error(500, "something odd"), ops.DockerOpsError, True),
        (api_error(400, "invalid mount config"), ops.DockerOpsError, False),
    ],
)
def test_sdk_errors_map_to_ours(exc: BaseException, kind: type, transient: bool) -> None:
    mapped = errors.from_sdk(exc, "HPC1")
    assert mapped is not None and type(mapped) is kind
    assert mapped.transient is transient
    assert mapped.message


def test_port_in_use_names_the_port() -> None:
    mapped = errors.from_sdk(api_error(500, PORT_TAKEN), "HPC1")
    assert isinstance(mapped, ops.PortInUseError)
    assert mapped.port == 10022


def test_gpu_hook_failure_reads_plainly() -> None:
    mapped = errors.from_sdk(api_error(500, HOOK_FAILED), "HPC2")
    assert mapped is not None
    assert "GPU" in mapped.message and "HPC2" in mapped.message
    assert "OCI" not in mapped.message


def test_foreign_exceptions_are_not_mapped() -> None:
    assert errors.from_sdk(ValueError("x"), "HPC1") is None


def _raise(exc: BaseException) -> Callable[[Any], Any]:
    def fn(client: Any) -> Any:
        raise exc
    return fn


async def test_call_raises_our_error_with_the_sdk_error_as_cause() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock"))
    original = api_error(500, PORT_TAKEN)
    with pytest.raises(ops.PortInUseError) as caught:
        await engine.call("start", _raise(original))
    assert caught.value.__cause__ is original


async def test_call_lets_foreign_bugs_through() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock"))
    with pytest.raises(KeyError):
        await engine.call("inspect", _raise(KeyError("State")))


async def test_ping_of_a_missing_daemon_is_host_unreachable() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock", timeout=2))
    with pytest.raises(ops.HostUnreachableError):
        await engine.ping()


def test_tls_client_ignores_ca_bundle_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    conn = ops.HostConn("HPC1", "tcp://127.0.0.1:2376", str(tmp_path / "ca.pem"),
                        str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    client = make_client(conn, 30)
    assert client.api.base_url.startswith("https://")
    assert client.api.verify == str(tmp_path / "ca.pem")
    assert client.api.trust_env is False
    settings = client.api.merge_environment_settings(client.api.base_url, {}, None, None, None)
    assert settings["verify"] == str(tmp_path / "ca.pem")


GOOD_REFS = [
    ("ubuntu", ("docker.io", "library/ubuntu", "latest", None)),
    ("nvcr.io/nvidia/pytorch:20.12-py3", ("nvcr.io", "nvidia/pytorch", "20.12-py3", None)),
    ("127.0.0.1:5000/nvidia/pytorch:23.10-py3",
     ("127.0.0.1:5000", "nvidia/pytorch", "23.10-py3", None)),
    ("localhost/team/img", ("localhost", "team/img", "latest", None)),
    ("user/my_img__x.y-z:V1.0_rc", ("docker.io", "user/my_img__x.y-z", "V1.0_rc", None)),
    ("index.docker.io/library/debian:12", ("docker.io", "library/debian", "12", None)),
    ("nvcr.io/nvidia/cuda@sha256:" + "a" * 64,
     ("nvcr.io", "nvidia/cuda", None, "sha256:" + "a" * 64)),
    ("nvcr.io/nvidia/cuda:12.2@sha256:" + "b" * 64,
     ("nvcr.io", "nvidia/cuda", "12.2", "sha256:" + "b" * 64)),
]


@pytest.mark.parametrize(("ref", "expected"), GOOD_REFS)
def test_parse_image_ref_accepts(ref: str, expected: tuple[Any, ...]) -> None:
    parsed = ops.parse_image_ref(ref)
    assert (parsed.registry, parsed.repository, parsed.tag, parsed.digest) == expected


@pytest.mark.parametrize(
    "ref",
    [
        "", "   ", "Ubuntu", "nvidia/PyTorch:1", "a//b", "img:", "img:-bad", "img:" + "x" * 129,
        "img@sha256:123", "img@md5:" + "a" * 64, "ubuntu; rm -rf /", "-img", "img-",
        "a..b/c", "nvcr.io/", "host:port/img", "a" * 256, "docker.io/ubuntu:la test",
    ],
)
def test_parse_image_ref_refuses(ref: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        ops.parse_image_ref(ref)


@pytest.mark.parametrize(
    ("ref", "allowed"),
    [
        ("nvcr.io/nvidia/pytorch:20.12-py3", True),
        ("127.0.0.1:5000/nvidia/pytorch:23.10-py3", True),
        ("ubuntu", False),
        ("evil.io/nvcr.io/x", False),
        ("nvcr.io.evil.com/nvidia/x", False),
        ("ghcr.io/lab/tools:1", True),
        ("ghcr.io/other/tools:1", False),
        ("Not A Ref", False),
    ],
)
def test_registry_allow_list(ref: str, allowed: bool) -> None:
    allow = ["nvcr.io", "127.0.0.1:5000", "ghcr.io/lab"]
    assert ops.registry_allowed(ref, allow) is allowed


def test_pull_progress_adds_up_layers_and_never_overshoots() -> None:
    events: list[dict[str, Any]] = [
        {"status": "Pulling from nvidia/pytorch", "id": "23.10-py3"},
        {"status": "Pulling fs layer", "id": "l1", "progressDetail": {}},
        {"status": "Pulling fs layer", "id": "l2", "progressDetail": {}},
        {"status": "Downloading", "id": "l1", "progressDetail": {"current": 100, "total": 1000}},
        {"status": "Downloading", "id": "l2", "progressDetail": {"current": 50, "total": 500}},
        {"status": "Downloading", "id": "l1", "progressDetail": {"current": 1200, "total": 1000}},
        {"status": "Download complete", "id": "l2", "progressDetail": {}},
        {"status": "Extracting", "id": "l1", "progressDetail": {"current": 10, "total": 1000}},
        {"status": "Pull complete", "id": "l1", "progressDetail": {}},
        {"status": "Already exists", "id": "l3", "progressDetail": {}},
        {"status": "Digest: sha256:" + "c" * 64},
    ]
    progress = images.PullProgress()
    seen = [step for event in events if (step := progress.feed(event))]
    assert seen == [(100, 1000), (150, 1500), (1050, 1500), (1500, 1500)]
    assert all(done <= total for done, total in seen)
    assert progress.finish() == (1500, 1500)


@pytest.mark.parametrize(
    ("message", "status", "transient"),
    [
        ("manifest for x:nope not found: manifest unknown", 404, False),
        ("pull access denied for x, repository does not exist", 404, False),
        ('Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connection refused', 500,
         True),
        ("dial tcp: lookup nvcr.io: no such host", None, True),
    ],
)
def test_pull_errors_tell_transient_from_permanent(
    message: str, status: int | None, transient: bool
) -> None:
    assert images.pull_error("x", message, status).transient is transient


async def test_pull_of_a_bad_reference_is_a_permanent_pull_error() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock"))
    with pytest.raises(ops.ImagePullError) as caught:
        await ops.pull(engine, "Not/Valid Ref")
    assert caught.value.transient is False


def test_entry_script_is_valid_sh_and_traps_term(tmp_path: Path) -> None:
    script = tmp_path / "entry.sh"
    script.write_text(ops.ENTRY_SCRIPT)
    subprocess.run(["sh", "-n", str(script)], check=True)
    assert "trap stop_all TERM" in ops.ENTRY_SCRIPT
    assert "JUPYTER_TOKEN" in ops.ENTRY_SCRIPT


def test_entry_script_carries_no_secret() -> None:
    lowered = ops.ENTRY_SCRIPT.lower()
    assert "chpasswd" not in lowered and "root:" not in lowered
    assert "passwd" not in lowered.replace("passwordauthentication", "")


def _spec(**overrides: Any) -> ops.ContainerSpec:
    values: dict[str, Any] = dict(
        name="gpurent-r1", image="nvcr.io/nvidia/pytorch:20.12-py3", hostname="r1",
        labels={"gpurent.rental": "1"}, gpu_ids=["0", "1"], ports={22: 10022, 8888: 10088},
        workspace_dir="/srv/ws/r1", env={"JUPYTER_TOKEN": "t"}, shm_size="8g",
        mem_limit=None, nano_cpus=None,
    )
    values.update(overrides)
    return ops.ContainerSpec(**values)


def test_create_kwargs_request_gpus_ports_workspace_and_limits() -> None:
    kwargs = create_kwargs(_spec())
    (request,) = kwargs["device_requests"]
    assert request["DeviceIDs"] == ["0", "1"] and request["Capabilities"] == [["gpu"]]
    assert "Count" not in request or not request["Count"]
    assert kwargs["ports"] == {"22/tcp": 10022, "8888/tcp": 10088}
    assert kwargs["volumes"] == {"/srv/ws/r1": {"bind": "/workspace", "mode": "rw"}}
    limits = {u["Name"]: (u["Soft"], u["Hard"]) for u in kwargs["ulimits"]}
    assert limits == {"memlock": (-1, -1), "stack": (67108864, 67108864)}
    assert kwargs["restart_policy"] == {"Name": "unless-stopped"}
    assert kwargs["entrypoint"][:2] == ["/bin/sh", "-c"]
    assert kwargs["shm_size"] == "8g" and "mem_limit" not in kwargs


def test_create_kwargs_without_gpus_requests_none() -> None:
    assert "device_requests" not in create_kwargs(_spec(gpu_ids=[]))


async def test_set_root_password_refuses_multiline_password() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock"))
    with pytest.raises(ValueError, match="one line"):
        await ops.set_root_password(engine, "cid", "a\nroot:b")


async def _serve(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                   Awaitable[None]]) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()  # what docker-proxy does while nothing listens inside the container


async def _ssh(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
    await writer.drain()
    writer.close()


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    writer.write(b"HTTP/1.1 302 Found\r\nLocation: /lab\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_wait_ready_needs_the_ssh_banner_not_just_a_connection() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock"))
    server, port = await _serve(_hang_up)
    async with server:
        with pytest.raises(ops.NotReadyError, match="SSH"):
            await ops.wait_ready(engine, "127.0.0.1", port, None, timeout=0.6)


async def test_wait_ready_returns_once_ssh_and_jupyter_answer() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock"))
    ssh_server, ssh_port = await _serve(_ssh)
    http_server, http_port = await _serve(_http)
    async with ssh_server, http_server:
        await ops.wait_ready(engine, "127.0.0.1", ssh_port, http_port, timeout=3)


async def test_wait_ready_reports_a_silent_jupyter() -> None:
    engine = ops.Engine(ops.HostConn("HPC1", "unix:///nonexistent/docker.sock"))
    ssh_server, ssh_port = await _serve(_ssh)
    silent, silent_port = await _serve(_hang_up)
    async with ssh_server, silent:
        with pytest.raises(ops.NotReadyError, match="Jupyter"):
            await ops.wait_ready(engine, "127.0.0.1", ssh_port, silent_port, timeout=0.6)


def _fake_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_supported(*args: Any) -> Any:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)

    fakes: dict[str, Callable[..., Any]] = {
        "nvmlInit": lambda: None,
        "nvmlDeviceGetCount": lambda: 2,
        "nvmlDeviceGetHandleByIndex": lambda i: i,
        "nvmlDeviceGetName": lambda h: b"NVIDIA GeForce RTX 3090",
        "nvmlDeviceGetUUID": lambda h: f"GPU-{h}",
        "nvmlDeviceGetMemoryInfo": lambda h: SimpleNamespace(total=24 << 30, used=1 << 30),
        "nvmlDeviceGetUtilizationRates": lambda h: SimpleNamespace(gpu=37),
        "nvmlDeviceGetTemperature": lambda h, sensor: 61,
        "nvmlDeviceGetPowerUsage": not_supported,
        "nvmlDeviceGetComputeRunningProcesses":
            lambda h: [SimpleNamespace(pid=42, usedGpuMemory=None)],
    }
    for name, fake in fakes.items():
        monkeypatch.setattr(pynvml, name, fake)


def test_nvml_probe_reads_each_field_defensively(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_nvml(monkeypatch)
    probe = gpus.NvmlProbe()
    assert probe.available()
    first, second = probe.read()
    assert (first.index, first.name, first.uuid) == ("0", "NVIDIA GeForce RTX 3090", "GPU-0")
    assert (first.memory_total, first.utilization, first.temperature) == (24 << 30, 37, 61)
    assert first.power_w is None
    assert first.processes == [(42, 0)]
    assert second.index == "1"


def test_nvml_probe_without_a_driver_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", no_library)
    assert gpus.NvmlProbe().read() == []
    assert isinstance(gpus.detect_probe(), gpus.NoGpuProbe)
