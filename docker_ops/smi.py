"""GPU usage through the Docker API: ``nvidia-smi`` run by exec inside a rental's container.

The NVIDIA runtime mounts ``nvidia-smi`` into every container it gives GPUs to, and there it
sees exactly that container's GPUs, numbered 0..n-1 in PCI bus order, which is also the order
of the host's own indices. So row i belongs to the i-th of the host GPU ids the container was
given, sorted. The container is the student's (root inside): its ``nvidia-smi`` may be
missing, broken, slow, chatty or lying. Output is capped in size and time and parsed cell by
cell; rows past the container's own GPUs are dropped, so a container can misreport only its
own GPUs, never another rental's.
"""

from __future__ import annotations

import contextlib
import logging
import re
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import docker

from docker_ops.engine import Engine
from docker_ops.errors import DockerOpsError
from docker_ops.password import _exit_code

logger = logging.getLogger(__name__)

FIELDS = ("index", "uuid", "utilization.gpu", "memory.used", "memory.total", "temperature.gpu")
QUERY = ("nvidia-smi", f"--query-gpu={','.join(FIELDS)}", "--format=csv,noheader,nounits")
READ_TIMEOUT = 10.0  # a healthy nvidia-smi answers in well under a second
EXIT_WAIT = 2.0
MAX_OUTPUT = 64 * 1024  # 8 GPUs take ~1 KiB; anything near this is not nvidia-smi
MAX_ROWS = 64
NOT_FOUND_EXIT = (126, 127)
MIB = 1 << 20
_MAX_MIB = 1 << 30  # 1 PiB: past any GPU
_NUMBER = re.compile(r"[0-9]{1,12}")  # ASCII only: "²".isdigit() is true
_UUID = re.compile(r"GPU-[0-9A-Fa-f-]{8,64}")
_FRAME = struct.Struct(">BxxxL")  # Docker's multiplexed stream: kind, 3 pad bytes, length


class SmiUnavailableError(DockerOpsError):
    """No reading from this container's nvidia-smi (missing, failed, hung, unreadable)."""

    transient = True


@dataclass(frozen=True)
class SmiRow:
    """One GPU as the container's nvidia-smi reports it; None where it had no number."""

    index: int
    uuid: str
    utilization: int | None  # percent
    memory_used: int | None  # bytes
    memory_total: int | None  # bytes
    temperature: int | None  # °C


def _number(cell: str, high: int) -> int | None:
    """A whole number in [0, high]; None for ``[N/A]``, ``[Not Supported]`` or garbage."""
    if not _NUMBER.fullmatch(cell):
        return None
    value = int(cell)
    return value if value <= high else None


def _mib(cell: str) -> int | None:
    value = _number(cell, _MAX_MIB)
    return None if value is None else value * MIB


def parse_row(line: str) -> SmiRow | None:
    """One CSV line, or None when it is not a GPU row (a message, a header, too few cells).
    Temperature, the last column, may be missing; a row must not have more cells than asked."""
    cells = [cell.strip() for cell in line.split(",")]
    if not len(FIELDS) - 1 <= len(cells) <= len(FIELDS):
        return None
    index = _number(cells[0], MAX_ROWS - 1)
    if index is None:
        return None
    return SmiRow(
        index=index, uuid=cells[1] if _UUID.fullmatch(cells[1]) else "",
        utilization=_number(cells[2], 100), memory_used=_mib(cells[3]),
        memory_total=_mib(cells[4]),
        temperature=_number(cells[5], 200) if len(cells) == len(FIELDS) else None)


def parse(text: str) -> list[SmiRow]:
    """Every GPU row of the output, by index; the first row wins for a repeated index."""
    rows: dict[int, SmiRow] = {}
    for line in text.splitlines()[:MAX_ROWS]:
        row = parse_row(line.replace("\0", ""))
        if row is not None:
            rows.setdefault(row.index, row)
    return [rows[i] for i in sorted(rows)]


def host_order(gpu_id: str) -> tuple[int, int, str]:
    numeric = gpu_id.isascii() and gpu_id.isdigit()
    return (0, int(gpu_id), gpu_id) if numeric else (1, 0, gpu_id)


def to_host(rows: Sequence[SmiRow], gpu_ids: Sequence[str]) -> list[tuple[str, SmiRow]]:
    """(host GPU id, row): the container's GPU i is the i-th of its host ids in host order.
    Rows past the container's own GPUs are dropped."""
    ids = sorted(gpu_ids, key=host_order)
    return [(ids[row.index], row) for row in rows if row.index < len(ids)]


def _demux(raw: bytes) -> tuple[bytes, bytes]:
    """Split Docker's multiplexed exec stream into stdout and stderr (a torn tail is dropped)."""
    out, err, at = bytearray(), bytearray(), 0
    while at + _FRAME.size <= len(raw):
        kind, size = _FRAME.unpack_from(raw, at)
        chunk = raw[at + _FRAME.size: at + _FRAME.size + size]
        (err if kind == 2 else out).extend(chunk)
        at += _FRAME.size + size
    return bytes(out), bytes(err)


def _drain(sock: Any, timeout: float) -> bytes:
    """Read the hijacked exec socket to its end, at most MAX_OUTPUT bytes or ``timeout``
    seconds (docker-py's own reader polls without a deadline)."""
    raw = getattr(sock, "_sock", sock)  # SocketIO wraps the socket on unix/tcp
    deadline, data = time.monotonic() + timeout, bytearray()
    try:
        while len(data) < MAX_OUTPUT:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if hasattr(raw, "settimeout"):
                raw.settimeout(left)
            chunk = raw.recv(4096)
            if not chunk:
                break
            data.extend(chunk)
    except (OSError, ValueError):
        pass  # a stream that ends badly or too late: what came so far is all we use
    finally:
        with contextlib.suppress(OSError):
            sock.close()
    return bytes(data)


def _run(client: docker.DockerClient, cid: str, timeout: float) -> tuple[int | None, bytes, bytes]:
    exec_id = client.api.exec_create(cid, list(QUERY), stdout=True, stderr=True)["Id"]
    out, err = _demux(_drain(client.api.exec_start(exec_id, socket=True), timeout))
    # None: still running (hung, or flooding past the cap)
    return _exit_code(client, exec_id, EXIT_WAIT), out, err


def _verdict(code: int | None, out: bytes, err: bytes, host: str) -> list[SmiRow]:
    said = (err or out).decode("utf-8", "replace").strip().splitlines()
    first = said[0][:200] if said else ""
    if code in NOT_FOUND_EXIT or "executable file not found" in first:
        raise SmiUnavailableError(f"no nvidia-smi in the container on {host}")
    if code is None:
        raise SmiUnavailableError(f"nvidia-smi on {host} did not finish in time")
    if code != 0:
        raise SmiUnavailableError(f"nvidia-smi on {host} exited {code}: {first}")
    rows = parse(out.decode("utf-8", "replace"))
    if not rows:
        raise SmiUnavailableError(f"nvidia-smi on {host} printed no GPU rows: {first}")
    return rows


async def read(engine: Engine, cid: str, timeout: float | None = None) -> list[SmiRow]:
    """The container's GPUs as its nvidia-smi sees them; SmiUnavailableError when there is no
    usable answer, other DockerOpsErrors when Docker itself fails (stopped, gone, down)."""
    wait = timeout or READ_TIMEOUT
    code, out, err = await engine.call("nvidia-smi", lambda c: _run(c, cid, wait))
    return _verdict(code, out, err, engine.name)
