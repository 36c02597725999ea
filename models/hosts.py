"""Hosts and their GPUs as the database records them: what is free, who holds what, which
hosts answer. Each read takes a fixed number of queries however many hosts there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from peewee import fn

from models.tables import Gpu, GpuAllocation, Host, Rental, User


@dataclass(frozen=True)
class HostUse:
    """One enabled host with its GPU ids and the rental holding each held one."""

    host: Host
    gpus: list[str]  # every GPU id, in numeric order
    held: dict[str, Rental] = field(default_factory=dict)


def enabled() -> list[Host]:
    """Enabled hosts in configuration order (by id)."""
    return list(Host.select().where(Host.enabled).order_by(Host.id))


def _gpu_ids(hosts: list[Host]) -> dict[int, list[str]]:
    ids: dict[int, list[str]] = {h.id: [] for h in hosts}
    for gpu in Gpu.select(Gpu.host, Gpu.gpu_index).where(Gpu.host.in_(list(ids))):
        ids[gpu.host_id].append(gpu.gpu_index)  # type: ignore[attr-defined]
    return {host_id: sorted(found, key=int) for host_id, found in ids.items()}


def _held(hosts: list[Host]) -> dict[int, dict[str, Rental]]:
    held: dict[int, dict[str, Rental]] = {h.id: {} for h in hosts}
    rows = (GpuAllocation.select(GpuAllocation, Rental, User).join(Rental).join(User)
            .where(GpuAllocation.host.in_(list(held)) & GpuAllocation.released_at.is_null()))
    for row in rows:
        held[row.host_id][row.gpu_index] = row.rental  # type: ignore[attr-defined]
    return held


def usage() -> list[HostUse]:
    """Every enabled host with its GPUs and their holders (three queries in all)."""
    hosts = enabled()
    ids, held = _gpu_ids(hosts), _held(hosts)
    return [HostUse(h, ids[h.id], held[h.id]) for h in hosts]


def free_gpus(include_unreachable: bool = False) -> dict[str, list[str]]:
    """Free GPU ids per enabled host (unreachable ones left out unless asked for), hosts in
    configuration order, ids in numeric order. Two queries, reading only the free GPUs (the
    waitlist asks on every tick): no rental rows, no history."""
    shown = [h for h in enabled() if h.reachable or include_unreachable]
    free: dict[int, list[str]] = {h.id: [] for h in shown}
    live = GpuAllocation.alias()
    held = (live.select(live.id).where((live.host == Gpu.host) & (live.gpu_index == Gpu.gpu_index)
                                       & live.released_at.is_null()))
    rows = cast(list[tuple[int, str]], list(
        Gpu.select(Gpu.host, Gpu.gpu_index).where(Gpu.host.in_(list(free)) & ~fn.EXISTS(held))
        .tuples()))
    for host_id, gpu in rows:
        free[host_id].append(gpu)
    return {h.name: sorted(free[h.id], key=int) for h in shown}


def capacity() -> int:
    """The most GPUs one enabled host has (free or not): the biggest request we can ever run."""
    per_host = Gpu.select(fn.COUNT(Gpu.id)).join(Host).where(Host.enabled).group_by(Gpu.host)
    return max((int(n) for n in per_host.scalars()), default=0)


def unreachable() -> list[Host]:
    """Enabled hosts marked unreachable, to ping again."""
    return list(Host.select().where(Host.enabled & (Host.reachable == False))  # noqa: E712
                .order_by(Host.id))


def set_reachable(name: str, reachable: bool, error: str = "") -> None:
    """Record whether the host answered, and why not (kept short for the admins' views)."""
    Host.update(reachable=reachable, last_error=error[:500]).where(Host.name == name).execute()


def mark_down(name: str, error: str) -> bool:
    """Record that the host stopped answering; True only for the call that saw it go down."""
    flipped = (Host.update(reachable=False, last_error=error[:500])
               .where((Host.name == name) & (Host.reachable == True)).execute())  # noqa: E712
    if not flipped:
        Host.update(last_error=error[:500]).where(Host.name == name).execute()
    return bool(flipped)


def mark_up(name: str) -> bool:
    """Record that the host answers again; True only for the call that saw it come back."""
    return bool(Host.update(reachable=True, last_error="")
                .where((Host.name == name) & (Host.reachable == False)).execute())  # noqa: E712


def students_on(name: str) -> list[User]:
    """Students with a running rental on the host, each once."""
    return list(User.select().join(Rental, on=Rental.user == User.id).join(Host)
                .where((Host.name == name) & (Rental.state == "active")).distinct())
