"""Extra dockerd instances on this machine, each playing one "GPU server" (HPC1, HPC2, ...).

Each engine has its own socket, data and exec roots, bridge and loopback address (127.0.0.1N,
so two engines can publish the same port), and a stub `nvidia-container-runtime-hook` on its
PATH, which makes Docker 20.10 accept GPU device requests without a GPU.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import requests

from tests.rig import procs
from tests.rig.config import (
    API_VERSION,
    ENGINE_NAMES,
    GPU_IDS,
    LABEL_KEY,
    RigUnavailableError,
    address_block,
    bridge_prefix,
    cgroup_prefix,
)

logger = logging.getLogger(__name__)
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
HOOK_STUB = """#!/bin/sh
# Stand-in for NVIDIA's prestart hook: records the OCI state, fails when the flag file exists.
cat >> {log}
echo >> {log}
[ -e {flag} ] && {{ echo "gpurent rig: injected GPU hook failure" >&2; exit 1; }}
[ -e {slow} ] && sleep "$(cat {slow})"
exit 0
"""


class Engine:
    """One rig dockerd: a "GPU server" with two fake GPUs."""

    def __init__(self, rig_dir: Path, name: str, index: int) -> None:
        self.name = name
        self.index = index
        self.home = rig_dir / name
        self.socket = self.home / "docker.sock"
        self.docker_url = f"unix://{self.socket}"
        self.address = f"127.0.0.{address_block() + index}"
        self.label = f"{LABEL_KEY}={name}"
        self.gpu_ids = list(GPU_IDS)
        self.workspace_root = self.home / "workspaces"
        self.bridge = f"{bridge_prefix()}{name.lower()}"[:15]
        # The host's address on this engine's bridge: containers on any rig engine reach a
        # server the tests run on the host here (no NAT needed, the address is local).
        self.gateway = f"10.231.{address_block() - 10 + self.index}.1"
        self.hook_flag = self.home / "gpu-hook-fails"
        self.hook_slow = self.home / "gpu-hook-slow"
        self.hook_log = self.home / "gpu-hook.log"
        self.log_path = self.home / "dockerd.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"Engine({self.name!r}, {self.docker_url!r})"

    def client(self, timeout: int = 60) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.docker_url, version=API_VERSION, timeout=timeout)

    def fail_gpu_hook(self, on: bool) -> None:
        """Make the GPU prestart hook fail (container start -> APIError 500) or work again."""
        if on:
            self.hook_flag.touch()
        else:
            self.hook_flag.unlink(missing_ok=True)

    def slow_gpu_hook(self, seconds: int) -> None:
        """Make every container start wait ``seconds`` in the GPU hook (0: no wait): a window
        in which a container exists but is not running yet."""
        if seconds:
            self.hook_slow.write_text(str(seconds))
        else:
            self.hook_slow.unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def prepare(self) -> None:
        """Directories, hook stub and bridge; done once before the first start."""
        for sub in ("data", "exec", "bin", "workspaces"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        hook = self.home / "bin" / "nvidia-container-runtime-hook"
        hook.write_text(HOOK_STUB.format(log=self.hook_log, flag=self.hook_flag,
                                         slow=self.hook_slow))
        hook.chmod(0o755)
        procs.delete_bridge(self.bridge)
        procs.run("ip", "link", "add", self.bridge, "type", "bridge")
        procs.run("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        procs.run("ip", "link", "set", self.bridge, "up")

    def _argv(self) -> list[str]:
        ns = f"{cgroup_prefix()}{self.name.lower()}"
        return [
            "dockerd",
            "-H", self.docker_url,
            "--data-root", str(self.home / "data"),
            "--exec-root", str(self.home / "exec"),
            "--pidfile", str(self.home / "docker.pid"),
            "--bridge", self.bridge,
            "--iptables=false",
            "--ip-masq=false",
            "--ip", self.address,
            "--label", self.label,
            "--cgroup-parent", f"{cgroup_prefix()}{self.name}",
            "--containerd-namespace", ns,
            "--containerd-plugins-namespace", f"{ns}-plugins",
            "--shutdown-timeout", "3",
        ]  # fmt: skip

    def start_daemon(self) -> None:
        """Start dockerd and wait until it answers: the "host" is back."""
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Start dockerd without waiting; see wait_ready()."""
        if self.running:
            return
        env = dict(os.environ)
        env["PATH"] = f"{self.home / 'bin'}:{env.get('PATH', '')}:/usr/sbin:/usr/bin:/sbin:/bin"
        with self.log_path.open("ab") as log:
            # A session of its own, so a Ctrl-C meant for pytest does not reach dockerd.
            self._proc = subprocess.Popen(
                self._argv(), stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
            )  # fmt: skip
        logger.info("%s: dockerd pid %d", self.name, self._proc.pid)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with contextlib.closing(self.client(timeout=5)) as client:
            while True:
                if self._proc is None or self._proc.poll() is not None:
                    raise RuntimeError(f"{self.name}: dockerd exited\n{self.log_tail()}")
                with contextlib.suppress(requests.exceptions.ConnectionError):
                    if self.socket.exists() and client.ping():
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: dockerd not ready\n{self.log_tail()}")
                time.sleep(0.05)

    def stop_daemon(self) -> None:
        """SIGTERM dockerd and wait: the "host" becomes unreachable, its containers stop."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            logger.warning("%s: dockerd ignored SIGTERM, killing it", self.name)
            proc.kill()
            proc.wait()

    def remove_containers(self) -> int:
        with contextlib.closing(self.client()) as client:
            containers = client.containers.list(all=True)
            for container in containers:
                with contextlib.suppress(docker.errors.NotFound):
                    container.remove(force=True, v=True)
        return len(containers)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def container_logs_dump(self, tail: int = 200) -> str:
        """State and last log lines of every container on this engine, for failure reports."""
        parts = [f"===== engine {self.name} ({self.docker_url}) ====="]
        if not self.running:
            return parts[0] + "\n(dockerd not running)"
        try:
            with contextlib.closing(self.client(timeout=10)) as client:
                for container in client.containers.list(all=True):
                    parts.append(_describe(container, tail))
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            parts.append(f"(cannot list containers: {exc})")
        if len(parts) == 1:
            parts.append("(no containers)")
        return "\n".join(parts)


def _describe(container: docker.models.containers.Container, tail: int) -> str:
    state = container.attrs.get("State", {})
    head = (
        f"--- {container.name} {container.short_id} image={container.attrs['Config']['Image']}"
        f" status={state.get('Status')} exit={state.get('ExitCode')} error={state.get('Error')!r}"
    )
    try:
        logs = container.logs(tail=tail).decode(errors="replace")
    except docker.errors.APIError as exc:
        logs = f"(no logs: {exc})"
    return f"{head}\n{logs}"


def check_prerequisites() -> None:
    if os.geteuid() != 0:
        raise RigUnavailableError("the test rig needs root (it starts dockerd and bridges)")
    for tool in ("dockerd", "containerd", "runc", "ip"):
        if not _which(tool):
            raise RigUnavailableError(f"{tool} not found (apt-get install docker.io iproute2)")


def _which(tool: str) -> bool:
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
    return any(os.access(Path(d) / tool, os.X_OK) for d in path.split(":") if d)


def start_engines(rig_dir: Path, names: tuple[str, ...] = ENGINE_NAMES) -> list[Engine]:
    """Start one dockerd per name (in parallel) and wait until every socket answers."""
    engines = [Engine(rig_dir, name, i) for i, name in enumerate(names, start=1)]
    for engine in engines:
        engine.prepare()
        engine.spawn()
    with ThreadPoolExecutor(len(engines)) as pool:
        list(pool.map(lambda e: e.wait_ready(), engines))
    return engines


def stop_engines(engines: list[Engine]) -> None:
    """Remove containers, stop every dockerd; leftovers are for procs.clean_rig_dir()."""
    for engine in engines:
        if engine.running:
            with contextlib.suppress(Exception):
                engine.remove_containers()
    with ThreadPoolExecutor(max(len(engines), 1)) as pool:
        list(pool.map(lambda e: e.stop_daemon(), engines))
