"""What admins look at: pending requests and host occupancy."""

from __future__ import annotations

from bot.i18n import esc, t
from models.states import State
from models.tables import Gpu, GpuAllocation, Host, Rental


def pending() -> list[Rental]:
    return list(Rental.select().where(Rental.state == State.PENDING.value).order_by(Rental.id))


def hosts_text(lang: str) -> str:
    lines = [t(lang, "hosts_title")]
    for host in Host.select().where(Host.enabled).order_by(Host.id):
        gpus = [g.gpu_index for g in Gpu.select().where(Gpu.host == host)]
        held = {a.gpu_index: a.rental for a in GpuAllocation.select().where(
            (GpuAllocation.host == host) & GpuAllocation.released_at.is_null())}
        status = t(lang, "hosts_up") if host.reachable else t(
            lang, "hosts_down", error=esc(host.last_error[:100]))
        lines.append(t(lang, "hosts_line", name=esc(host.name), status=status,
                       used=len(held), total=len(gpus)))
        for gpu in sorted(gpus, key=int):
            rental = held.get(gpu)
            who = (f"{rental.ref} · {esc(rental.user.first_name)}" if rental else
                   t(lang, "hosts_free"))
            lines.append(f"  GPU {gpu}: {who}")
    lines.append(t(lang, "hosts_queue", n=len(list(Rental.select().where(
        Rental.state == State.QUEUED.value)))))
    return "\n".join(lines)



