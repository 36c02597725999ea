"""What /my shows about a rental beyond its card's first lines: GPUs and every port, time
left, what it cost so far, and for a waiting one its place in the queue and a likely start."""

from __future__ import annotations

from datetime import datetime, timedelta

from billing.money import format_money
from bot.i18n import t
from bot.services import Services
from bot.usecases import inventory
from models import queries
from models import selfservice as store
from models.states import State
from models.tables import Rental


def details(services: Services, rental: Rental, lang: str, now: datetime) -> str:
    lines = [t(lang, "my_cost", cost=format_money(store.cost_of(rental)))]
    state = State(rental.state)
    if state in (State.ACTIVE, State.EXPIRED, State.PROVISIONING):
        gpus = ",".join(queries.rental_gpus(rental)) or "—"
        lines.append(t(lang, "my_gpus", gpus=gpus))
        extras = {p: h for p, h in queries.rental_ports(rental).items() if p not in (22, 8888)}
        if extras:
            lines.append(t(lang, "my_ports", ports=", ".join(
                f"{p}→{h}" for p, h in sorted(extras.items()))))
    expires = queries.from_db(rental.expires_at)
    if state is State.ACTIVE and expires is not None:
        lines.append(t(lang, "my_left", left=_left(lang, expires - now)))
    if state is State.QUEUED:
        when = inventory.estimate_start(rental, now)
        eta = services.config.lab_time(when) if when else t(lang, "eta_unknown")
        lines.append(t(lang, "my_queue", position=inventory.queue_position(rental), eta=eta))
    return "\n".join(lines)


def _left(lang: str, left: timedelta) -> str:
    minutes = max(0, int(left.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    return t(lang, "my_left_dhm", d=days, h=rest // 60, m=rest % 60)
