"""What an admin does to a rental from its ``/rental`` card: stop, start, restart, end now
(with or without a pro-rata refund), extend for free, remove the container, cancel a waiting
one. Each runs under the rental's lock, is audited with the admin as the actor, and the student
is told what happened.

Stop moves the rental to ``expired`` (container stopped, GPUs back to the pool, the end kept),
the same state a rental reaches at its end, so the watchers leave its container alone; Start
revives it until that end.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from billing import ledger
from billing.money import format_money
from bot import auth
from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import container, lifecycle, selfservice
from bot.usecases import schedule as sch
from bot.usecases.console import still_fresh
from bot.usecases.release import credit_unused_days
from models import queries, rentals
from models.db import db
from models.states import WAITING, State
from models.tables import Rental, User

logger = logging.getLogger(__name__)

GRANTS = {"x1d": timedelta(days=1), "x7d": timedelta(days=7)}


async def run(services: Services, admin: User, rental_id: int, act: str, seen: int,
              now: datetime) -> str:
    """Carry out ``act`` (confirmed when the rental's version was ``seen``); returns what to
    tell the admin. UserError when it cannot be done; nothing is then changed."""
    admin = auth.require_admin(services.config, admin)
    rental = still_fresh(rental_id, seen)
    lang = admin.language
    if act == "restart":
        await selfservice.restart(services, rental.id, admin, now, seen)
        await _tell(services, rental, "ac_told_restart")
        return t(lang, "ac_done_restart", ref=rental.ref)
    if act in GRANTS:
        until = await extend_free(services, admin, rental, GRANTS[act], now)
        return t(lang, "ac_done_extend", ref=rental.ref, until=sch.lab_time(services, until))
    if act in ("end", "endr", "rm"):
        back = await end_now(services, admin, rental, now, refund=act == "endr")
        return t(lang, "ac_done_end", ref=rental.ref, refund=format_money(back))
    step = {"stop": stop, "start": start, "cancel": cancel}[act]
    await step(services, admin, rental, now)
    return t(lang, f"ac_done_{act}", ref=rental.ref)


async def stop(services: Services, admin: User, rental: Rental, now: datetime) -> None:
    with container.hold(rental, now):
        rental = _in(rental, State.ACTIVE)
        try:
            await container.stop(services, rental)
        except RuntimeFaultError as fault:
            raise UserError("ac_failed", ref=rental.ref,
                            reason=esc(fault.message[:200])) from None
        with db.atomic():
            rentals.must_transition(rental.id, State.EXPIRED, now, expect=[State.ACTIVE],
                                    audit="admin_stopped", actor=admin)
            queries.release_gpus(rental, now)
    await _tell(services, rental, "ac_told_stop")


async def start(services: Services, admin: User, rental: Rental, now: datetime) -> None:
    """Revive a stopped rental until its end; one whose time is up needs an extension."""
    ends = queries.from_db(rental.expires_at)
    if ends is None or ends <= now:
        raise UserError("ac_start_no_time", ref=rental.ref)
    await lifecycle.revive(services, rental, ends, now)
    audit(rental, "admin_started", now, admin)
    await _tell(services, rental, "ac_told_start")


async def extend_free(services: Services, admin: User, rental: Rental, more: timedelta,
                      now: datetime) -> datetime:
    """More time at no charge (a grant, in the ledger at zero); a stopped rental is revived."""
    ends = queries.from_db(rental.expires_at) or now
    until = max(ends, now) + more
    if rental.state == State.EXPIRED.value:
        rental = await lifecycle.revive(services, rental, until, now)
    elif not rentals.push_end(rental, until, now):
        raise UserError("life_busy", ref=rental.ref)
    lifecycle.quiet_reminders(services, rental, until, now)
    label = sch.span_text("en", more)
    audit(rental, "admin_extended", now, admin, f"+{label} free")
    ledger.grant(rental.user, rental, f"free extension of {rental.ref} (+{label})", now, admin)
    await _tell(services, rental, "ac_told_extend", until=sch.lab_time(services, until))
    return until


async def end_now(services: Services, admin: User, rental: Rental, now: datetime,
                  refund: bool) -> int:
    """Container removed, GPUs and ports freed, the rental released (``/workspace`` kept);
    with ``refund``, the unused part of its price is credited back. Returns the credit."""
    with container.hold(rental, now):
        fresh = rentals.get(rental.id)
        state = State(fresh.state)
        if state not in (State.ACTIVE, State.EXPIRED):
            raise UserError("ac_not_now", ref=rental.ref, state=state.value)
        try:
            await container.remove(services, fresh)
        except RuntimeFaultError as fault:
            raise UserError("ac_failed", ref=rental.ref,
                            reason=esc(fault.message[:200])) from None
        with db.atomic():
            queries.release_all(fresh, now)
            rentals.must_transition(rental.id, State.RELEASED, now, expect=[state],
                                    audit="admin_ended", actor=admin, ended_at=now,
                                    detail="pro-rata refund" if refund else "no refund")
    back = pro_rata(fresh, now) if refund and state is State.ACTIVE else 0
    if back > 0:
        ledger.credit(fresh.user, back, f"unused time of {rental.ref}", now, rental=fresh,
                      created_by=admin)
    await _tell(services, fresh, "ac_told_end", refund=format_money(back))
    return back


def pro_rata(rental: Rental, now: datetime) -> int:
    """The share of the price for the time left, in whole cents, rounded down."""
    started, ends = queries.from_db(rental.started_at), queries.from_db(rental.expires_at)
    if started is None or ends is None or ends <= now or not queries.has_charge(rental):
        return 0
    whole = (ends - started).total_seconds()
    left = (ends - now).total_seconds()
    return int(rental.price * left // whole) if whole > 0 else 0


async def cancel(services: Services, admin: User, rental: Rental, now: datetime) -> None:
    """A rental still waiting for GPUs: cancelled, its charge given back whole."""
    with container.hold(rental, now):
        state = rentals.state_of(rental.id)
        if state not in WAITING:
            raise UserError("ac_not_now", ref=rental.ref, state=state.value)
        with db.atomic():
            queries.release_all(rental, now)
            rentals.must_transition(rental.id, State.CANCELLED, now, expect=[state],
                                    audit="admin_cancelled", actor=admin, ended_at=now)
    credit_unused_days(services, rentals.get(rental.id), now)
    await _tell(services, rental, "ac_told_cancel")


def audit(rental: Rental | None, kind: str, now: datetime, admin: User,
          detail: str = "") -> None:
    """An admin's action that is not a state change (the state writer audits those)."""
    queries.audit(kind, now, rental=rental, actor=admin, detail=detail[:500])


def _in(rental: Rental, state: State) -> Rental:
    fresh = rentals.get(rental.id)
    if fresh.state != state.value:
        raise UserError("ac_not_now", ref=fresh.ref, state=fresh.state)
    return fresh


async def _tell(services: Services, rental: Rental, key: str, **values: object) -> None:
    user = rental.user
    await services.notifier.send(user.telegram_id, t(user.language, key, ref=rental.ref,
                                                     **values))


async def run_and_tell(services: Services, admin: User, rental_id: int, act: str,
                       seen: int, chat_id: int) -> None:
    """For the chat: the slow work beside it, the outcome told to the admin afterwards."""
    try:
        text = await run(services, admin, rental_id, act, seen, services.clock.now())
    except UserError as error:
        text = error.render(admin.language)
    await services.notifier.send(chat_id, text)
