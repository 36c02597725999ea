"""Extending a rental: a few lengths of its own plan, each priced at the cheapest mix of plans
that covers it (the hint from :func:`billing.quote.hint`), a confirmation, then the new end.

A running rental simply gets a later end. An expired one (container stopped, kept for
retention) is revived first; it is charged only once it runs again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from billing.money import format_money
from billing.plans import PlanError
from billing.quote import QuoteError, hint, quote, unit_count
from bot import auth
from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.ports import Keyboard
from bot.services import Services
from bot.usecases import lifecycle
from bot.usecases import schedule as sch
from bot.usecases.payments import charge_and_request_payment
from models import queries, rentals
from models.states import EXTENDABLE, State
from models.tables import Rental, User

logger = logging.getLogger(__name__)

QUANTITIES = (1, 2, 3)


@dataclass(frozen=True)
class Offer:
    unit: str
    quantity: int
    price: int  # cents: the cheapest way to buy at least quantity x unit
    duration: timedelta
    label: str  # what is bought, e.g. "2 days" or the cheaper "1 week"
    plain: int  # what quantity x unit costs as asked


@dataclass(frozen=True)
class Extension:
    rental: Rental
    offer: Offer
    expires: datetime
    revived: bool


def offer(services: Services, rental: Rental, unit: str, quantity: int, lang: str) -> Offer:
    table = services.config.prices
    try:
        q = quote(table, rental.gpus, unit, quantity, services.config.rental.max_quantity)
    except (PlanError, QuoteError):
        raise UserError("life_ext_bad", ref=rental.ref) from None
    better = hint(table, q)
    if better is not None:
        return Offer(unit, quantity, better.total, better.duration, better.describe(lang),
                     q.total)
    return Offer(unit, quantity, q.total, q.duration, unit_count(unit, quantity, lang), q.total)


def offers(services: Services, rental: Rental, lang: str) -> list[Offer]:
    limit = services.config.rental.max_quantity.get(rental.unit, max(QUANTITIES))
    return [offer(services, rental, rental.unit, n, lang) for n in QUANTITIES if n <= limit]


def extendable(rental_id: int, user: User) -> Rental:
    rental = rentals.owned_by(rental_id, user)
    if rental is None:
        raise UserError("my_unknown")
    auth.refuse_blocked(user)
    if State(rental.state) not in EXTENDABLE:
        raise UserError("life_not_extendable", ref=rental.ref)
    return rental


def new_end(rental: Rental, duration: timedelta, now: datetime) -> datetime:
    """A running rental continues from its end; a stopped one from now."""
    expires = queries.from_db(rental.expires_at) or now
    return expires + duration if rental.state == State.ACTIVE.value else now + duration


def menu(services: Services, rental_id: int, user: User, now: datetime) -> tuple[str, Keyboard]:
    rental = extendable(rental_id, user)
    lang = user.language
    if rental.state == State.EXPIRED.value:
        head = t(lang, "life_ext_menu_expired", ref=rental.ref, until=sch.lab_time(
            services, lifecycle.container_until(services, rental)))
    else:
        head = t(lang, "life_ext_menu", ref=rental.ref,
                 until=sch.lab_time(services, queries.from_db(rental.expires_at) or now))
    lines, buttons = [head], []
    for o in offers(services, rental, lang):
        if o.price < o.plain:
            lines.append(t(lang, "life_ext_hint", asked=unit_count(o.unit, o.quantity, lang),
                           plain=format_money(o.plain), combo=o.label,
                           price=format_money(o.price)))
        buttons.append([cb.EXTEND_PICK.button(f"+{o.label} · {format_money(o.price)}",
                                              rental.id, o.unit, o.quantity)])
    return "\n".join(lines), buttons


def confirm(services: Services, rental_id: int, user: User, unit: str, quantity: int,
            now: datetime) -> tuple[str, Keyboard]:
    rental = extendable(rental_id, user)
    lang = user.language
    o = offer(services, rental, unit, quantity, lang)
    text = t(lang, "life_ext_confirm", ref=rental.ref, label=o.label,
             price=format_money(o.price),
             until=sch.lab_time(services, new_end(rental, o.duration, now)))
    return text, [[cb.EXTEND_CONFIRM.button(t(lang, "life_btn_extend_yes"), rental.id, unit,
                                            quantity, end_stamp(rental))]]


def end_stamp(rental: Rental) -> int:
    """The rental's end as the confirm button carries it (Unix seconds)."""
    expires = queries.from_db(rental.expires_at)
    return int(expires.timestamp()) if expires else 1


async def apply(services: Services, rental_id: int, user: User, unit: str, quantity: int,
                now: datetime, end: int | None = None) -> Extension:
    """Extend (reviving an expired rental first), then charge. UserError when it cannot, or
    when ``end`` (what the confirm button saw) is no longer the rental's end: that press was
    answered already."""
    rental = extendable(rental_id, user)
    if end is not None and end != end_stamp(rental):
        raise UserError("life_ext_done", ref=rental.ref)
    deal = offer(services, rental, unit, quantity, user.language)
    revived = rental.state == State.EXPIRED.value
    expires = new_end(rental, deal.duration, now)
    if revived:
        rental = await lifecycle.revive(services, rental, expires, now)
    else:
        _push(rental, expires, now)
    lifecycle.quiet_reminders(services, rental, expires, now)
    queries.audit("extended", now, rental=rental, actor=user,
                  detail=f"+{deal.label} {format_money(deal.price)}")
    await _charge(services, user, rental, deal, now)
    return Extension(rentals.get(rental.id), deal, expires, revived)


def _push(rental: Rental, expires: datetime, now: datetime) -> None:
    """A later end for a running rental, unless the tick is expiring it at this moment."""
    if not rentals.push_end(rental, expires, now):
        raise UserError("life_busy", ref=rental.ref)


async def _charge(services: Services, user: User, rental: Rental, deal: Offer,
                  now: datetime) -> None:
    reason = t(user.language, "life_charge_extend", ref=rental.ref, label=deal.label)
    await charge_and_request_payment(services, user, rental, deal.price, reason, now)


async def apply_and_tell(services: Services, rental_id: int, user: User, unit: str,
                         quantity: int, end: int | None = None) -> None:
    """For the chat: run the extension in the background and report how it went."""
    lang = user.language
    try:
        done = await apply(services, rental_id, user, unit, quantity, services.clock.now(),
                           end)
    except UserError as error:
        await services.notifier.send(user.telegram_id, error.render(lang))
        return
    key = "life_revived" if done.revived else "life_extended"
    await services.notifier.send(user.telegram_id, t(
        lang, key, ref=done.rental.ref, until=sch.lab_time(services, done.expires)))
