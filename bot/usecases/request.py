"""The student's request: what may be chosen, checks on typed input, the quote, submission."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from billing.plans import PlanError
from billing.quote import Combination, Quote, QuoteError, hint, quote
from bot import auth
from bot.config import Config
from bot.errors import UserError
from bot.i18n import esc
from bot.textinput import NumberError, ascii_digits, ascii_int, echo
from docker_ops.imageref import ReservedImageError, parse_custom_ref, registry_allowed
from models import hosts, rentals, settings
from models.tables import Rental, User

logger = logging.getLogger(__name__)

PURPOSE_MAX = 500
RESERVED_PORTS = (22, 8888)


@dataclass
class Draft:
    """What the student has chosen so far; kept in the chat's user data during the dialogue."""

    image_key: str = ""
    image_ref: str = ""
    custom: bool = False
    gpus: int = 0
    unit: str = ""
    quantity: int = 0
    purpose: str = ""
    extra_ports: list[int] = field(default_factory=list)


def preflight(config: Config, user: User) -> None:
    """Refuse before any question is asked (and again at Confirm)."""
    auth.refuse_blocked(user)
    if config.rental.maintenance:
        raise UserError("req_maintenance")
    said = settings.maintenance()  # switched on from the chat (/maintenance)
    if said is not None:
        raise UserError("req_maintenance_text", text=esc(said) or "—")
    pending = rentals.open_request(user)
    if pending is not None:
        raise UserError("req_has_pending", ref=pending.ref)
    live = rentals.live_count(user)
    if live >= config.rental.max_live_per_student:
        raise UserError("req_limit", limit=config.rental.max_live_per_student)


def host_capacity() -> int:
    """The most GPUs one enabled host has (free or not): the biggest request we can ever run."""
    return hosts.capacity()


def gpu_choices(config: Config) -> list[int]:
    cap = host_capacity()
    return [n for n in config.prices.gpu_counts() if n <= cap]


def check_custom_image(config: Config, text: str) -> str:
    ref = text.strip()
    try:
        parsed = parse_custom_ref(ref)
    except ReservedImageError:
        raise UserError("req_image_reserved") from None
    except ValueError as exc:
        raise UserError("req_image_bad", error=echo(exc)) from None
    if not registry_allowed(parsed, list(config.rental.registry_allow)):
        raise UserError("req_image_registry", registry=echo(parsed.registry, 60),
                        allowed=echo(", ".join(config.rental.registry_allow)))
    return ref


def check_quantity(config: Config, unit: str, text: str) -> int:
    limit = config.rental.max_quantity.get(unit, 1)
    try:
        return ascii_int(text, 1, limit)
    except NumberError:
        raise UserError("req_quantity_bad", limit=limit, unit=echo(unit, 20)) from None


def check_purpose(text: str) -> str:
    purpose = text.strip()
    if not purpose:
        raise UserError("req_purpose_empty")
    if len(purpose) > PURPOSE_MAX:
        raise UserError("req_purpose_long", limit=PURPOSE_MAX, length=len(purpose))
    return purpose


def check_ports(config: Config, text: str) -> list[int]:
    words = [w for w in re.split(r"[\s,，;；、]+", ascii_digits(text).strip()) if w]
    limit = config.rental.max_extra_ports
    ports: list[int] = []
    for word in words:
        try:
            port = ascii_int(word, 1, 65535)
        except NumberError:
            raise UserError("req_port_bad", value=echo(word, 40)) from None
        if port in RESERVED_PORTS:
            raise UserError("req_port_reserved", value=port)
        if port not in ports:
            ports.append(port)
    if len(ports) > limit:
        raise UserError("req_port_many", limit=limit)
    return ports


def price(config: Config, draft: Draft) -> tuple[Quote, Combination | None]:
    try:
        q = quote(config.prices, draft.gpus, draft.unit, draft.quantity,
                  config.rental.max_quantity)
    except (QuoteError, PlanError) as exc:
        raise UserError("req_quote_bad", error=str(exc)) from None
    return q, hint(config.prices, q)


def submit(config: Config, user: User, draft: Draft, now: datetime) -> Rental:
    preflight(config, user)
    q, _ = price(config, draft)
    if not draft.purpose or not draft.image_ref:
        raise UserError("req_incomplete")
    rental = rentals.submit(
        user, now, image_key=draft.image_key, image_ref=draft.image_ref,
        custom_image=draft.custom, gpus=draft.gpus, unit=draft.unit, quantity=draft.quantity,
        price=q.total, purpose=draft.purpose,
        extra_ports=",".join(str(p) for p in draft.extra_ports))
    logger.info("request R%d submitted by user %d", rental.id, user.telegram_id)
    return rental
