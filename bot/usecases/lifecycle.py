"""A rental's time: reminders before it ends, the stop at expiry, revival by extension.

At expiry the container is stopped, not removed: its GPUs go back to the pool (and so to the
waitlist), its host ports stay held so the student's SSH settings keep working when it comes
back. Revival starts the same container when its GPUs are free, otherwise commits it to an
image and recreates it on other free GPUs of the same host with the same ports and /workspace.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.errors import UserError
from bot.i18n import t
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import container, inventory
from bot.usecases import schedule as sch
from bot.usecases.retention import workspace_note
from models import locks, notices, queries, rentals
from models.db import db
from models.states import State
from models.tables import Host, Rental

logger = logging.getLogger(__name__)


def reminder_key(rental: Rental, expires: datetime, offset: timedelta) -> str:
    return f"rem:{rental.id}:{sch.epoch(expires)}:{sch.seconds(offset)}"


async def send_reminders(services: Services, now: datetime) -> int:
    """The reminder due for each running rental, once; only the one still relevant."""
    offsets = services.config.lifecycle.reminders
    if not offsets:
        return 0
    due: list[tuple[Rental, datetime, str]] = []
    for rental in rentals.active_ending_between(now, now + max(offsets)):
        expires = queries.from_db(rental.expires_at)
        assert expires is not None
        offset = sch.relevant_offset(expires - now, offsets)
        started = queries.from_db(rental.started_at) or now
        if offset is None or expires - started <= offset:
            continue  # a 3-hour rental gets no "3 h left" the moment it starts
        due.append((rental, expires, reminder_key(rental, expires, offset)))
    sent = 0
    done = notices.claimed_among(key for _, _, key in due)  # one query, not one per rental
    for rental, expires, key in due:
        if key not in done and sch.claim(key, now, rental):
            await _remind(services, rental, expires, now)
            sent += 1
    return sent


def quiet_reminders(services: Services, rental: Rental, expires: datetime,
                    now: datetime) -> None:
    """After an extension: the marks already passed for the new end need no reminder."""
    for offset in services.config.lifecycle.reminders:
        if expires - now <= offset:
            sch.claim(reminder_key(rental, expires, offset), now, rental)


async def _remind(services: Services, rental: Rental, expires: datetime, now: datetime) -> None:
    user = rental.user
    lang = user.language
    text = t(lang, "life_reminder", ref=rental.ref, left=sch.span_text(lang, expires - now),
             at=sch.lab_time(services, expires),
             keep=sch.span_text(lang, services.config.lifecycle.container_retention))
    await services.notifier.send(user.telegram_id, text, [[sch.extend_button(lang, rental)]])


async def expire_due(services: Services, now: datetime) -> int:
    """Stop every rental whose time is up; GPUs are freed only once the container is stopped."""
    await release_stranded(services, now)
    due = rentals.active_due(now)
    return sum([await expire_one(services, rental, now) for rental in due])


async def expire_one(services: Services, rental: Rental, now: datetime) -> bool:
    if not await _stop(services, rental, now):
        return False  # still running: keep its GPUs, try again next tick
    if not _claim_expiry(rental, now):
        return False
    await _tell_expired(services, rental)
    return True


async def _stop(services: Services, rental: Rental, now: datetime) -> bool:
    try:
        await container.stop(services, rental)
    except RuntimeFaultError as fault:
        expires = queries.from_db(rental.expires_at) or now
        sch.note_failure("stop_failed", f"stop:{rental.id}:{sch.epoch(expires)}", fault, now,
                         rental)
        return False
    return True


def _claim_expiry(rental: Rental, now: datetime) -> bool:
    """ACTIVE -> EXPIRED only if the end has not moved meanwhile (an extension won)."""
    with db.atomic():
        if not rentals.expire_if_due(rental.id, now):
            return False
        queries.release_gpus(rental, now)
        sch.unclaim(f"idle:{rental.id}")
    return True


def container_until(services: Services, rental: Rental) -> datetime:
    expires = queries.from_db(rental.expires_at)
    assert expires is not None
    return expires + services.config.lifecycle.container_retention


async def _tell_expired(services: Services, rental: Rental) -> None:
    user = rental.user
    lang = user.language
    text = t(lang, "life_expired", ref=rental.ref,
             until=sch.lab_time(services, container_until(services, rental)),
             workspace=workspace_note(services, rental))
    await services.notifier.send(user.telegram_id, text, [[sch.extend_button(lang, rental)]])


async def release_stranded(services: Services, now: datetime) -> int:
    """GPUs still held by an expired rental whose revival was cut short by a crash."""
    freed = 0
    for rental in queries.expired_holding_gpus():
        if locks.held(rental.id) or not await _stop(services, rental, now):
            continue
        freed += queries.release_gpus(rental, now)
    return freed


async def revive(services: Services, rental: Rental, expires: datetime, now: datetime) -> Rental:
    """Bring an expired rental back as it was, running until ``expires``. UserError when it
    cannot be done now; nothing is then changed."""
    with container.hold(rental, now):
        fresh = rentals.get(rental.id)
        if State(fresh.state) is not State.EXPIRED or fresh.host is None:
            raise UserError("life_not_extendable", ref=rental.ref)
        await _revive_locked(services, fresh, expires, now)
    return rentals.get(rental.id)


async def _revive_locked(services: Services, rental: Rental, expires: datetime,
                         now: datetime) -> None:
    host = rental.host
    assert host is not None
    free = inventory.free_gpus(include_unreachable=True).get(host.name, [])
    same = queries.last_gpus(rental)
    if len(same) == rental.gpus and set(same) <= set(free):
        gpus = same
    elif len(free) >= rental.gpus:
        gpus = sorted(free, key=int)[:rental.gpus]
    else:
        raise UserError("life_no_gpus", ref=rental.ref, host=host.name,
                        until=sch.lab_time(services, container_until(services, rental)))
    _hold_gpus(rental, host, gpus, now)
    try:
        if gpus == same:
            cid, name = await container.start(services, rental)
        else:
            cid, name = await container.recreate(services, rental, gpus, now)
    except RuntimeFaultError as fault:
        queries.release_gpus(rental, now)
        queries.audit("revive_failed", now, rental=rental, detail=fault.message[:500])
        raise UserError("life_revive_failed", ref=rental.ref) from fault
    rentals.must_transition(rental.id, State.ACTIVE, now, expect=[State.EXPIRED],
                            audit="revived", expires_at=expires, container_id=cid,
                            container_name=name)


def _hold_gpus(rental: Rental, host: Host, gpus: list[str], now: datetime) -> None:
    try:
        queries.allocate(rental, host, gpus, {}, now)  # ports are still held
    except queries.AllocationConflictError:
        raise UserError("life_busy", ref=rental.ref) from None
