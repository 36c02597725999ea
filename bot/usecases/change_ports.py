"""The ports half of a paid change: which extra container ports the student wants now, and the
host ports that go with them (kept ports keep their host port; added ones get a free one)."""

from __future__ import annotations

from datetime import datetime

from bot.config import Config
from bot.errors import UserError
from bot.placement import pick_ports
from bot.services import Services
from bot.usecases import container, selfservice
from bot.usecases.request import check_ports
from models import queries
from models import selfservice as store
from models.tables import Rental, User

NONE_WORDS = ("-", "none", "no", "无", "没有")


def current_extras(rental: Rental) -> list[int]:
    return [int(p) for p in rental.extra_ports.split(",") if p]


def check_new_ports(config: Config, rental: Rental, typed: str) -> list[int]:
    """The full list of extra ports wanted (validated as in /request); "-" for none."""
    ports = [] if typed.strip().lower() in NONE_WORDS else check_ports(config, typed)
    if sorted(ports) == sorted(current_extras(rental)):
        raise UserError("chg_ports_same", ref=rental.ref)
    return ports


async def apply_ports(services: Services, rental: Rental, user: User, now: datetime,
                      extra_ports: str) -> None:
    """Hold host ports for the added container ports, replace the container (from a snapshot
    of itself: nothing but the ports changes), then let the removed ones go."""
    wanted = [22, 8888, *(int(p) for p in extra_ports.split(",") if p)]
    held = queries.rental_ports(rental)
    added = [p for p in wanted if p not in held]
    removed = [p for p in held if p not in wanted]
    new_hosts = await _free_host_ports(services, rental, len(added))
    try:
        store.hold_ports(rental, dict(zip(added, new_hosts, strict=True)), now)
    except store.PortTakenError:
        raise UserError("life_busy", ref=rental.ref) from None
    mapping = {p: held[p] for p in wanted if p in held} | dict(zip(added, new_hosts, strict=True))
    try:
        await selfservice.rebuild(services, rental, user, now, rental.image_ref, "ports_changed",
                                  detail=f"ports [{extra_ports}]", ports=mapping, snapshot=True,
                                  extra_ports=extra_ports)
    except UserError:
        store.let_go_ports(rental, added, now)
        raise
    store.let_go_ports(rental, removed, now)


async def _free_host_ports(services: Services, rental: Rental, count: int) -> list[int]:
    if count == 0:
        return []
    cfg = container.host_of(services, rental)
    busy = await services.runtime.published_ports(cfg.name)
    free = pick_ports(cfg.port_range, busy | queries.held_ports(queries.host_named(cfg.name)),
                      count)
    if len(free) < count:
        raise UserError("chg_ports_full", ref=rental.ref)
    return free
