"""``[rental]``: what one student may ask for, and how long the bot waits and keeps things."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from billing.plans import UNITS, PriceTable
from billing.quote import MAX_CHEAPEST_DURATION
from bot.config.reader import Reader, shown

# A registry host (name or IP, optional port), optionally followed by a namespace prefix.
_REGISTRY = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9._-]+)*")
MAX_LIVE_PER_STUDENT = 100
MAX_EXTRA_PORTS = 20  # each takes a host port from the range; beyond this it is a typo
MAX_READY_TIMEOUT_S = 3600.0
MAX_PASSWORD_TTL_H = 24.0 * 31


@dataclass(frozen=True)
class RentalConfig:
    max_live_per_student: int = 2
    max_extra_ports: int = 3
    ready_timeout_s: float = 120.0
    password_message_ttl_h: float = 24.0
    registry_allow: tuple[str, ...] = ("nvcr.io", "docker.io")
    max_quantity: dict[str, int] = field(
        default_factory=lambda: {"hour": 72, "day": 60, "week": 12, "month": 12}
    )
    maintenance: bool = False
    # Password login off for the rentals of a student who added an SSH key (keys only).
    keys_only_when_keyed: bool = False


def parse_rental(r: Reader, prices: PriceTable) -> RentalConfig:
    base = RentalConfig()
    return RentalConfig(
        max_live_per_student=r.whole("max_live_per_student", base.max_live_per_student,
                                     1, MAX_LIVE_PER_STUDENT),
        max_extra_ports=r.whole("max_extra_ports", base.max_extra_ports, 0, MAX_EXTRA_PORTS),
        ready_timeout_s=r.number("ready_timeout_s", base.ready_timeout_s,
                                 0, MAX_READY_TIMEOUT_S),
        password_message_ttl_h=r.number("password_message_ttl_h", base.password_message_ttl_h,
                                        0, MAX_PASSWORD_TTL_H),
        registry_allow=_registries(r, base.registry_allow),
        max_quantity=_max_quantity(r, base.max_quantity, prices),
        maintenance=r.get("maintenance", bool, False),
        keys_only_when_keyed=r.get("keys_only_when_keyed", bool, False),
    )


def _max_quantity(r: Reader, base: dict[str, int], prices: PriceTable) -> dict[str, int]:
    """Per unit, at most what a quote can price: the cheapest-mix hint refuses durations past
    MAX_CHEAPEST_DURATION, so a larger limit would let students ask for unpriceable rentals."""
    table = r.sub("max_quantity")
    limits = dict(base)
    for unit, value in table.data.items():
        if unit not in UNITS:
            raise r.fail(f"max_quantity.{unit}", f"unknown unit; expected {', '.join(UNITS)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise r.fail(f"max_quantity.{unit}", "expected a positive whole number per unit")
        limits[unit] = value
    for unit, value in limits.items():
        most = MAX_CHEAPEST_DURATION // prices.unit_duration(unit)
        if value > most:
            raise table.fail(unit, f"{shown(value)} {unit}s is longer than a rental can be "
                                   f"quoted ({MAX_CHEAPEST_DURATION.days} days): at most {most}")
    return limits


def _registries(r: Reader, default: tuple[str, ...]) -> tuple[str, ...]:
    entries = r.get("registry_allow", list, list(default))
    for entry in entries:
        if not isinstance(entry, str) or not _REGISTRY.fullmatch(entry.strip().rstrip("/")):
            raise r.fail("registry_allow", f"{shown(entry)} is not a registry like "
                                           "\"nvcr.io\" or \"registry.lab:5000/team\"")
    return tuple(entries)

