"""What admins look at: pending requests and host occupancy."""

from __future__ import annotations

from bot.i18n import esc, t
from models import hosts, rentals
from models.states import State
from models.tables import Rental


def pending() -> list[Rental]:
    return rentals.in_states([State.PENDING])


def hosts_text(lang: str) -> str:
    lines = [t(lang, "hosts_title")]
    for use in hosts.usage():
        host = use.host
        status = t(lang, "hosts_up") if host.reachable else t(
            lang, "hosts_down", error=esc(host.last_error[:100]))
        lines.append(t(lang, "hosts_line", name=esc(host.name), status=status,
                       used=len(use.held), total=len(use.gpus)))
        for gpu in use.gpus:
            rental = use.held.get(gpu)
            who = (f"{rental.ref} · {esc(rental.user.first_name)}" if rental else
                   t(lang, "hosts_free"))
            lines.append(f"  GPU {gpu}: {who}")
    lines.append(t(lang, "hosts_queue", n=len(rentals.queued())))
    return "\n".join(lines)



