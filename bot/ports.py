"""The small interfaces the use cases talk to. Implementations live at the edges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None  # callback data, at most 64 bytes
    url: str | None = None


Keyboard = list[list[Button]]


class DeliveryDelayedError(Exception):
    """Telegram could not be reached (network, proxy, 5xx) after a few tries, and the message
    was not kept for later because it carries a secret. Not a Docker fault: the caller must
    leave the rental whole and deliver again once Telegram answers."""


class Notifier(Protocol):
    """Sends Telegram HTML to chats. Returns message ids, or None when the chat is unreachable
    (the user blocked the bot or never started it): that is logged, never raised.

    When Telegram itself cannot be reached, a message is retried a few times, then kept and
    delivered by :meth:`flush` once Telegram answers (None is returned meanwhile); a ``secret``
    one (a password) is never kept: DeliveryDelayedError is raised instead."""

    async def send(self, chat_id: int, text: str, buttons: Keyboard | None = None,
                   secret: bool = False) -> int | None:
        ...

    async def send_photo(self, chat_id: int, photo: bytes, caption: str,
                         buttons: Keyboard | None = None, secret: bool = False) -> int | None:
        ...

    async def flush(self) -> int:
        """Deliver the messages kept while Telegram was away, oldest first; how many went."""
        ...

    async def send_document(self, chat_id: int, data: bytes, filename: str,
                            caption: str = "") -> int | None: ...

    async def edit(self, chat_id: int, message_id: int, text: str,
                   buttons: Keyboard | None = None) -> bool: ...

    async def delete(self, chat_id: int, message_id: int) -> bool:
        """False when the message is gone or cannot be deleted; DeliveryDelayedError when
        Telegram cannot be reached (try again later)."""
        ...


@dataclass(frozen=True)
class RunSpec:
    """What a rental's container needs, in our words; docker_ops turns it into SDK calls."""

    name: str
    image: str
    hostname: str
    labels: dict[str, str]
    gpu_ids: tuple[str, ...]
    ports: dict[int, int]  # container port -> host port
    workspace_dir: str
    env: dict[str, str]
    shm_size: str | None = None
    mem_limit: str | None = None
    nano_cpus: int | None = None
    memlock: int = -1
    # Never in ``env`` (docker inspect and a commit's config show it): written to a root-only
    # file in the container after the start, where the entry script waits for it.
    jupyter_token: str = ""
    pids_limit: int | None = None  # None: the runtime's default
    no_new_privileges: bool = True
    host_gpus: int = 0  # the host's GPU count: unset memory/CPU limits are this rental's share


class RuntimeFaultError(Exception):
    """A container operation failed. ``kind`` is one of: unreachable, pull, port_in_use,
    name_in_use, start, not_ready, gone. ``transient`` faults are worth another try later."""

    def __init__(self, kind: str, message: str, transient: bool, port: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.transient, self.port = kind, message, transient, port


Progress = Callable[[int, int], None]


class GpuReading(NamedTuple):
    """One GPU's load right now, as a host reports it."""

    gpu_index: str
    utilization: int | None  # percent; None when the GPU does not report it
    memory_used: int  # bytes
    memory_total: int  # bytes
    temperature: int | None = None  # °C; None when the GPU does not report it


class ContainerDeath(NamedTuple):
    """One of our containers stopped (``die``) or ran out of memory (``oom``, just before)."""

    cid: str
    rental_id: int | None
    action: str
    exit_code: int | None


class ContainerRuntime(Protocol):
    """Containers on named hosts. Every method raises RuntimeFaultError, nothing else."""

    async def ping(self, host: str) -> None: ...

    async def engine_version(self, host: str) -> str:
        """The Docker engine's version on ``host`` (for the admins' /hosts)."""
        ...

    async def build_image(self, host: str, dockerfile: str, tag: str,
                          on_log: Callable[[str], None]) -> int:
        """Build ``tag`` from ``dockerfile`` (no other context) on ``host``, calling
        ``on_log`` with each line of the build's output; returns the image's size in bytes."""
        ...

    def close(self) -> None:
        """Let go of every engine connection (at shutdown)."""
        ...

    async def ensure_image(self, host: str, ref: str, on_progress: Progress | None) -> bool: ...

    async def pull_pinned(self, host: str, ref: str, on_progress: Progress | None) -> str:
        """Pull ``ref`` from its registry even when the host has an image of that name;
        returns ``name@sha256:…`` of what was pulled."""
        ...

    async def run(self, host: str, spec: RunSpec) -> str: ...

    async def set_root_password(self, host: str, cid: str, password: str) -> None: ...

    async def wait_ready(self, host: str, address: str, ssh_port: int,
                         jupyter_port: int | None, timeout: float) -> None: ...

    async def stop(self, host: str, cid: str) -> None: ...

    async def start(self, host: str, cid: str) -> None: ...

    async def remove(self, host: str, cid: str) -> None: ...

    async def remove_images(self, host: str, repository: str) -> int: ...

    async def published_ports(self, host: str) -> set[int]: ...

    async def list_ours(self, host: str) -> list[tuple[str, dict[str, str], str]]: ...

    async def gpus(self, host: str) -> list[tuple[str, str, int]]: ...

    async def commit(self, host: str, cid: str, repo: str, tag: str) -> str:
        """Snapshot a (stopped) container as image ``repo:tag``; returns the image id."""
        ...

    async def watch_deaths(self, host: str, on_death: Callable[[ContainerDeath], None]) -> None:
        """Call ``on_death`` for each of our containers that dies on ``host``, as it happens;
        runs until cancelled, reconnecting with backoff when the engine goes away."""
        ...

    async def gpu_usage(self, host: str) -> list[GpuReading]:
        """The host's GPUs' load now (every host: NVML here, nvidia-smi in each rental's
        container elsewhere); GPUs without a reading are left out."""
        ...

    async def remove_dir(self, host: str, image: str, root: str, name: str) -> None:
        """Delete ``root/name`` on the host (gone already counts as done)."""
        ...

    async def move_dir(self, host: str, image: str, root: str, name: str, dest_root: str,
                       dest_name: str) -> None:
        """Move ``root/name`` to ``dest_root/dest_name`` on the host (absent: nothing to do)."""
        ...

    # --- student self-service (issue 9) ---

    async def programs(self, host: str, cid: str) -> set[str]:
        """Which of ``sshd`` and ``jupyter-lab`` the running container has."""
        ...

    async def restart(self, host: str, cid: str) -> None: ...

    async def add_ssh_key(self, host: str, cid: str, key: str) -> None:
        """Append one public key line to root's authorized_keys (once), right owner and modes."""
        ...

    async def remove_ssh_key(self, host: str, cid: str, key: str) -> None: ...

    async def lock_password(self, host: str, cid: str) -> None:
        """Root's password stops working (key logins go on)."""
        ...

    async def image_programs(self, host: str, image: str) -> set[str] | None:
        """Which of ``sshd`` and ``jupyter-lab`` an image on the host has; None when the host
        does not have the image."""
        ...
