"""Small jobs inside a running rental container over `docker exec`: which programs the image
has, and root's SSH keys.

Nothing a student typed ever becomes part of a command line: a key travels on the exec's
stdin (see :mod:`docker_ops.password` for why that needs the low-level exec API), and the
scripts below are constants.
"""

from __future__ import annotations

import logging

import docker
import docker.errors

from docker_ops.engine import Engine
from docker_ops.errors import ContainerStartError
from docker_ops.password import _exit_code, _feed

logger = logging.getLogger(__name__)

# The same lookup as the entry script's, so "has sshd" means "the entry script starts sshd".
# The last line says the answer is whole: Docker 20.10 can drop a quick exec's output, and a
# lost "sshd" must not read as "this image has no sshd".
PROBED = "gpurent-probed"
PROBE_SCRIPT = rf"""
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 && echo sshd
command -v jupyter-lab >/dev/null 2>&1 && echo jupyter-lab
echo {PROBED}
exit 0
"""
PROBE_TRIES = 3

KEYS = "/root/.ssh/authorized_keys"
# stdin: one public key line. Appended unless already there; owner and modes sshd insists on.
ADD_KEY_SCRIPT = f"""
set -e
key=$(head -n 1)
umask 077
mkdir -p /root/.ssh
touch {KEYS}
grep -qxF -- "$key" {KEYS} || printf '%s\\n' "$key" >> {KEYS}
chown 0:0 /root/.ssh {KEYS}
chmod 700 /root/.ssh
chmod 600 {KEYS}
"""
# stdin: one public key line, removed wherever it appears (a missing file: nothing to do).
REMOVE_KEY_SCRIPT = f"""
set -e
key=$(head -n 1)
[ -f {KEYS} ] || exit 0
umask 077
grep -vxF -- "$key" {KEYS} > {KEYS}.gpurent || true
cat {KEYS}.gpurent > {KEYS}
rm -f {KEYS}.gpurent
"""


def _run(client: docker.DockerClient, cid: str, argv: list[str]) -> tuple[int | None, str]:
    exec_id = client.api.exec_create(cid, argv, user="root")["Id"]
    output = client.api.exec_start(exec_id)
    return _exit_code(client, exec_id), bytes(output).decode("utf-8", "replace")


def _found(output: str) -> set[str] | None:
    """The programs the probe named; None when its answer did not come back whole."""
    lines = {line.strip() for line in output.splitlines() if line.strip()}
    return lines - {PROBED} if PROBED in lines else None


async def programs(engine: Engine, cid: str) -> set[str]:
    """Which of ``sshd`` and ``jupyter-lab`` the (running) container has."""
    for _ in range(PROBE_TRIES):
        code, output = await engine.call("probe", lambda c: _run(c, cid, ["/bin/sh", "-c",
                                                                           PROBE_SCRIPT]))
        if code != 0:
            raise ContainerStartError(f"could not look inside the container on {engine.name} "
                                      f"(exit code {code})")
        found = _found(output)
        if found is not None:
            return found
        logger.warning("probe of %s on %s came back incomplete; asking again", cid[:12],
                       engine.name)
    raise ContainerStartError(f"could not look inside the container on {engine.name} (the "
                              "answer never came back whole)")


async def run_script(engine: Engine, cid: str, what: str, script: str, payload: str) -> None:
    """Run one of this module's scripts with ``payload`` on stdin; ContainerStartError when it
    does not exit 0."""
    if "\n" in payload.strip() or "\0" in payload:
        raise ValueError("the payload must be one line")
    data = (payload.strip() + "\n").encode()
    code = await engine.call(what, lambda c: _feed(c, cid, ["/bin/sh", "-c", script], data,
                                                   engine.conn.timeout))
    if code != 0:
        raise ContainerStartError(f"{what} failed in the container on {engine.name} "
                                  f"(exit code {code})")
    logger.info("%s done in %s on %s", what, cid[:12], engine.name)


async def add_key(engine: Engine, cid: str, key: str) -> None:
    await run_script(engine, cid, "add SSH key", ADD_KEY_SCRIPT, key)


async def remove_key(engine: Engine, cid: str, key: str) -> None:
    await run_script(engine, cid, "remove SSH key", REMOVE_KEY_SCRIPT, key)


async def lock_password(engine: Engine, cid: str) -> None:
    """Root gets no usable password (hash ``*``): password logins stop, key logins go on."""
    await run_script(engine, cid, "turn password login off", "exec chpasswd -e", "root:*")


def _probe_image(client: docker.DockerClient, image: str) -> set[str] | None:
    try:
        client.api.inspect_image(image)
    except docker.errors.ImageNotFound:
        return None
    box = client.containers.create(image, entrypoint=["/bin/sh", "-c", PROBE_SCRIPT],
                                   network_disabled=True, labels={"gpurent.helper": "probe"})
    try:
        box.start()
        box.wait(timeout=60)
        output = bytes(box.logs(stdout=True, stderr=False)).decode("utf-8", "replace")
    finally:
        box.remove(force=True)
    # A finished container's log is whole; a base without a shell printed nothing at all.
    return {line.strip() for line in output.splitlines() if line.strip()} - {PROBED}


async def image_programs(engine: Engine, image: str) -> set[str] | None:
    """Which of ``sshd`` and ``jupyter-lab`` an image has, by a throwaway container that runs
    nothing else (no network); None when the host does not have the image."""
    return await engine.call("probe image", lambda c: _probe_image(c, image), timeout=90)
