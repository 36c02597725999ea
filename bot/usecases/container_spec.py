"""What a rental's container is made of, in our words: its name, labels, GPUs, host ports,
workspace and limits (a :class:`bot.ports.RunSpec`). Pure: no Docker, no database writes;
:mod:`bot.usecases.container` turns it into containers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.config import HostConfig
from bot.ports import RunSpec
from models.tables import Rental, User

LABEL = "gpurent.rental"


@dataclass(frozen=True)
class Claim:
    """Where a rental runs: its host, GPUs and host ports (container port -> host port)."""

    host: HostConfig
    gpu_ids: tuple[str, ...]
    ports: dict[int, int]


def container_ports(rental: Rental) -> list[int]:
    extras = [int(p) for p in rental.extra_ports.split(",") if p]
    return [22, 8888, *extras]


def container_name(rental: Rental) -> str:
    return f"gpurent-r{rental.id}"


def workspace_name(user: User) -> str:
    return f"u{user.telegram_id}"


def revival_repository(rental: Rental) -> str:
    """Where a revived rental's committed images live on its host."""
    return f"gpurent/r{rental.id}"


def image_tag(kind: str, now: datetime) -> str:
    """A tag for a rental's committed image, with a random part: nobody can guess another
    rental's image name (each holds that student's whole filesystem)."""
    return f"{kind}{int(now.timestamp())}-{secrets.token_hex(6)}"


def run_spec(rental: Rental, c: Claim, token: str) -> RunSpec:
    h = c.host
    n = len(c.gpu_ids)
    mem = _scale(h.memory_per_gpu, n) if h.memory_per_gpu else None
    cpus = int(h.cpus_per_gpu * n * 1e9) if h.cpus_per_gpu else None
    user = rental.user
    return RunSpec(
        name=container_name(rental), image=rental.image_ref, hostname=f"r{rental.id}",
        labels={LABEL: str(rental.id), "gpurent.user": str(user.telegram_id),
                "gpurent.host": h.name},
        gpu_ids=c.gpu_ids, ports=c.ports,
        workspace_dir=f"{h.workspace_root.rstrip('/')}/{workspace_name(user)}",
        env={}, jupyter_token=token, shm_size=h.shm_size, mem_limit=mem, nano_cpus=cpus,
        memlock=h.memlock, pids_limit=h.pids_limit, no_new_privileges=h.no_new_privileges,
        host_gpus=len(h.gpus) if h.gpus is not None else 0,  # 0: the runtime counts them
    )


def _scale(size: str, n: int) -> str:
    digits = "".join(ch for ch in size if ch.isdigit())
    suffix = size[len(digits):]
    return f"{int(digits) * n}{suffix}"
