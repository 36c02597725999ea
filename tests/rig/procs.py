"""Low-level cleanup: processes, mounts, bridges and cgroups left behind by the rig."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.rig.config import bridge_prefix, cgroup_prefix

logger = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Only daemons the rig starts are ever killed by a command-line match (comm is cut at 15 chars).
DAEMON_COMMS = ("dockerd", "containerd", "containerd-shim", "docker-registry")


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a command, raise with its stderr on failure."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def alive(pid: int) -> bool:
    """True while pid runs; a zombie counts as gone (it only waits for its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def owned_pids(marker: str) -> list[int]:
    """Rig daemons whose command line mentions marker (the rig dir): ours, not someone else's."""
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    return [
        pid for pid in pids if comm(pid) in DAEMON_COMMS and marker in cmdline(pid) and alive(pid)
    ]


def signal_pid(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    # Reap it if it is our child, so its pid does not linger as a zombie.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until every pid exited; return those still alive at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        for pid in pids:
            signal_pid(pid, 0)
        pids = [pid for pid in pids if alive(pid)]
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def kill_leftovers(rig: Path) -> None:
    """KILL every rig daemon of a crashed run, then the containers its shims leave orphaned.

    No graceful stop: a daemon waits 10 s per container that ignores SIGTERM, and its state is
    about to be deleted anyway (the mounts it leaves are undone by unmount_under).
    """
    pids = owned_pids(str(rig).rstrip("/") + "/")
    for pid in pids:
        logger.warning("killing leftover pid %d (%s)", pid, cmdline(pid)[:80])
        signal_pid(pid, signal.SIGKILL)
    wait_gone(pids, 5.0)
    kill_cgroups()


def kill_cgroups() -> None:
    """Kill container processes still in the rig's cgroups (their shim died) and drop them."""
    groups = sorted(CGROUP_ROOT.glob(f"*/{cgroup_prefix()}*/**/"), key=lambda p: -len(p.parts))
    for group in groups:
        try:
            pids = [int(x) for x in (group / "cgroup.procs").read_text().split()]
        except OSError:
            continue
        for pid in pids:
            signal_pid(pid, signal.SIGKILL)
        wait_gone(pids, 5.0)
        try:
            group.rmdir()
        except OSError as exc:
            logger.debug("cgroup %s not removed: %s", group, exc)


def mounts_under(root: Path) -> list[str]:
    prefix = str(root).rstrip("/") + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix) or point == prefix.rstrip("/"):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_under(root: Path) -> None:
    for point in mounts_under(root):
        logger.info("unmounting leftover %s", point)
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def rig_bridges() -> list[str]:
    out = run("ip", "-o", "link", "show", "type", "bridge").stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]
    return [name for name in names if name.startswith(bridge_prefix())]


def delete_bridge(name: str) -> None:
    subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)


def clean_rig_dir(rig: Path) -> None:
    """Everything a crashed or finished run leaves: processes, mounts, bridges, files."""
    if rig.exists():
        kill_leftovers(rig)
        unmount_under(rig)
    for bridge in rig_bridges():
        logger.info("deleting bridge %s", bridge)
        delete_bridge(bridge)
    shutil.rmtree(rig, ignore_errors=True)
