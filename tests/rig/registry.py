"""A real image registry on loopback (Debian's `docker-registry`), so engines can really pull.

dockerd allows plain-HTTP registries on 127.0.0.0/8, so no TLS is needed.  Stopping it is the
"pull fails" fault; starting it again on the same port and storage brings the images back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import BinaryIO

import requests

from tests.rig.config import RigUnavailableError

logger = logging.getLogger(__name__)
CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {address}
"""
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback must not go through the machine's HTTP proxy
    return session


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class Registry:
    """docker-registry serving from a directory under the rig dir on 127.0.0.1:<free port>."""

    def __init__(self, home: Path) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RigUnavailableError(
                "docker-registry not found: the loopback registry needs Debian's docker-registry "
                "package (apt-get install docker-registry)"
            )
        self.binary = binary
        self.home = home
        self.address = f"127.0.0.1:{free_port()}"
        self.config = home / "config.yml"
        self.pidfile = home / "registry.pid"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        self.config.write_text(CONFIG.format(root=self.home / "data", address=self.address))
        with (self.home / "registry.log").open("ab") as log:
            self._proc = subprocess.Popen(
                [self.binary, "serve", str(self.config)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        # Our own pidfile, so a crashed run's registry is found and stopped next time.
        self.pidfile.write_text(str(self._proc.pid))
        self._wait_ready(timeout)
        logger.info("registry on %s (pid %d)", self.address, self._proc.pid)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.answers():
            if not self.running or time.monotonic() > deadline:
                log = (self.home / "registry.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"docker-registry did not come up on {self.address}\n{log}")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with _session() as session:
                return session.get(f"http://{self.address}/v2/", timeout=2).status_code == 200
        except requests.exceptions.RequestException:
            return False

    def push_tarball(self, ref: str, layer: Path, config: dict[str, object]) -> str:
        """Push a one-layer image (gzipped rootfs tar + image config) through the registry API.

        Pushing the cached tarball as is takes well under a second; `docker push` would gzip the
        layer again (~6 s) and leave the pushing engine knowing the blob, so that its later pulls
        download nothing.  Returns the manifest digest.
        """
        repo, tag = ref.rsplit(":", 1)
        config_bytes = json.dumps(config).encode()
        with _session() as session:
            config_digest = self._upload(session, repo, config_bytes, _digest(config_bytes))
            with layer.open("rb") as stream:
                layer_digest = self._upload(session, repo, stream, _sha256_file(layer))
            manifest = {
                "schemaVersion": 2,
                "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": CONFIG_TYPE, "size": len(config_bytes),
                           "digest": config_digest},
                "layers": [{"mediaType": LAYER_TYPE, "size": layer.stat().st_size,
                            "digest": layer_digest}],
            }  # fmt: skip
            body = json.dumps(manifest).encode()
            resp = session.put(
                f"http://{self.address}/v2/{repo}/manifests/{tag}",
                data=body, headers={"Content-Type": MANIFEST_TYPE}, timeout=30,
            )  # fmt: skip
            resp.raise_for_status()
        logger.info("pushed %s/%s (%s)", self.address, ref, _digest(body))
        return _digest(body)

    def _upload(
        self, session: requests.Session, repo: str, data: bytes | BinaryIO, digest: str
    ) -> str:
        resp = session.post(f"http://{self.address}/v2/{repo}/blobs/uploads/", timeout=30)
        resp.raise_for_status()
        location = resp.headers["Location"]
        if location.startswith("/"):
            location = f"http://{self.address}{location}"
        sep = "&" if "?" in location else "?"
        resp = session.put(
            f"{location}{sep}digest={digest}", data=data,
            headers={"Content-Type": "application/octet-stream"}, timeout=300,
        )  # fmt: skip
        resp.raise_for_status()
        return digest

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()
