"""``[[hosts]]`` (the GPU servers and their container limits), ``[[images]]`` (the catalogue)
and ``[prepare]`` (the package mirrors ``/images prepare`` builds with)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config.reader import Reader, bounded_int, port, shown, size
from docker_ops.rentable import APT_MIRROR, PIP_INDEX

DEFAULT_DOCKER_URL = "unix:///var/run/docker.sock"
MAX_MEMLOCK = 2**63 - 1  # the ulimit is a signed 64-bit value in the engine
MAX_CPUS_PER_GPU = 1024.0
MIN_PIDS, MAX_PIDS = 64, 4194304  # below 64 sshd and a shell hardly run; above: the kernel's max
_GPU_ID = re.compile(r"[0-9]{1,3}")  # ASCII digits only: "²".isdigit() is true


@dataclass(frozen=True)
class HostConfig:
    name: str
    docker_url: str = DEFAULT_DOCKER_URL
    public_address: str = "127.0.0.1"
    gpus: tuple[str, ...] | None = None  # None = read the GPUs through NVML
    port_range: tuple[int, int] = (20000, 20999)
    workspace_root: str = "/data/workspaces"
    memory_per_gpu: str | None = None
    cpus_per_gpu: float | None = None
    shm_size: str | None = "16g"
    memlock: int = -1  # bytes; -1 = unlimited, as NVIDIA recommends for its images
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    insecure_tcp: bool = False  # tcp:// without TLS, accepted only when the config says so
    pids_limit: int = 8192  # processes and threads per container: a fork bomb stops there
    no_new_privileges: bool = True  # setuid programs in a container gain nothing


@dataclass(frozen=True)
class ImageConfig:
    key: str
    name: str
    ref: str


@dataclass(frozen=True)
class PrepareConfig:
    """Package mirrors for ``/images prepare``; "" = the base image's own sources."""

    apt_mirror: str = ""  # scheme://host[:port] in place of the official Debian/Ubuntu hosts
    pip_index: str = ""  # PIP_INDEX_URL for the JupyterLab install


DEFAULT_IMAGES = (
    ImageConfig("pytorch", "PyTorch (NGC 20.12)", "nvcr.io/nvidia/pytorch:20.12-py3"),
    ImageConfig("tf2", "TensorFlow 2 (NGC 20.12)", "nvcr.io/nvidia/tensorflow:20.12-tf2-py3"),
    ImageConfig("tf1", "TensorFlow 1 (NGC 20.12)", "nvcr.io/nvidia/tensorflow:20.12-tf1-py3"),
)


def parse_host(r: Reader) -> HostConfig:
    name = r.need("name", str)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", name):
        raise r.fail("name", f"{name!r}: use letters, digits, '.', '_' or '-' (max 32)")
    url = r.get("docker_url", str, DEFAULT_DOCKER_URL)
    if not url.startswith(("unix://", "tcp://", "ssh://", "http://", "https://")):
        raise r.fail("docker_url", f"{url!r}: expected unix://, tcp:// or ssh://")
    return HostConfig(
        memlock=_memlock(r),
        name=name, docker_url=url, public_address=r.get("public_address", str, "127.0.0.1"),
        gpus=_gpus(r), port_range=_port_range(r),
        workspace_root=r.get("workspace_root", str, "/data/workspaces"),
        memory_per_gpu=size(r, "memory_per_gpu"), cpus_per_gpu=_cpus(r),
        shm_size=size(r, "shm_size") if "shm_size" in r.data else "16g",
        tls_ca=r.get("tls_ca", str), tls_cert=r.get("tls_cert", str), tls_key=r.get("tls_key", str),
        insecure_tcp=_insecure_tcp(r, url),
        pids_limit=r.whole("pids_limit", 8192, MIN_PIDS, MAX_PIDS),
        no_new_privileges=r.get("no_new_privileges", bool, True),
    )


def _insecure_tcp(r: Reader, url: str) -> bool:
    """Docker over plain TCP gives root on the host to anyone who can reach the port, so it
    needs TLS or an explicit ``insecure_tcp = true``."""
    insecure = bool(r.get("insecure_tcp", bool, False))
    if bool(r.get("tls_cert", str)) != bool(r.get("tls_key", str)):
        raise r.fail("tls_cert" if r.get("tls_key", str) else "tls_key",
                     "tls_cert and tls_key go together (the client certificate and its key)")
    tls = bool(r.get("tls_ca", str) or r.get("tls_cert", str))
    if url.startswith(("tcp://", "http://")) and not tls and not insecure:
        raise r.fail("docker_url", f"{url!r} without TLS lets anyone who reaches the port "
                     "run containers as root: set tls_ca, tls_cert and tls_key, or "
                     "insecure_tcp = true to accept that (a trusted private network only)")
    return insecure


def _gpus(r: Reader) -> tuple[str, ...] | None:
    raw = r.get("gpus", (str, list), "nvml")
    if isinstance(raw, str):
        if raw != "nvml":
            raise r.fail("gpus", f"{raw!r}: expected \"nvml\" or a list like [\"0\", \"1\"]")
        return None
    gpus = tuple(str(g) for g in raw)
    if len(set(gpus)) != len(gpus) or not all(_GPU_ID.fullmatch(g) for g in gpus):
        raise r.fail("gpus", f"{raw!r}: GPU ids must be distinct numbers like \"0\"")
    return gpus


def _port_range(r: Reader) -> tuple[int, int]:
    pr = r.get("port_range", list, [20000, 20999])
    if len(pr) != 2:
        raise r.fail("port_range", "expected two ports [first, last]")
    lo, hi = port(r, "port_range", pr[0]), port(r, "port_range", pr[1])
    if lo > hi or lo < 1024:
        raise r.fail("port_range", f"[{lo}, {hi}] must be ascending and above 1023")
    return lo, hi


def _cpus(r: Reader) -> float | None:
    if r.get("cpus_per_gpu", (int, float)) is None:
        return None
    return r.number("cpus_per_gpu", 0, 0, MAX_CPUS_PER_GPU)


def _memlock(r: Reader) -> int:
    value = r.get("memlock", (str, int), "unlimited")
    if value in ("unlimited", -1):
        return -1
    if isinstance(value, int) and value > 0:
        return bounded_int(r, "memlock", value, 1, MAX_MEMLOCK)
    raise r.fail("memlock", f"{shown(value)}: expected \"unlimited\" or a number of bytes")


def parse_image(r: Reader) -> ImageConfig:
    key = r.need("key", str)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,15}", key):
        raise r.fail("key", f"{key!r}: lowercase letters, digits, '-', '_' (max 16)")
    return ImageConfig(key=key, name=r.get("name", str, key), ref=r.need("ref", str))


def parse_prepare(r: Reader) -> PrepareConfig:
    apt = r.get("apt_mirror", str, "").strip().rstrip("/")
    if apt and not APT_MIRROR.fullmatch(apt):
        raise r.fail("apt_mirror", f"{shown(apt)}: expected http(s)://host[:port], e.g. "
                     "\"https://mirrors.tuna.tsinghua.edu.cn\" (each apt source keeps its path)")
    pip = r.get("pip_index", str, "").strip()
    if pip and not PIP_INDEX.fullmatch(pip):
        raise r.fail("pip_index", f"{shown(pip)}: expected an http(s) URL without spaces or "
                     "quotes, e.g. \"https://pypi.tuna.tsinghua.edu.cn/simple\"")
    return PrepareConfig(apt_mirror=apt, pip_index=pip)
