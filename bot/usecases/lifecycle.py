"""A rental's time: reminders before it ends, the stop at expiry, revival by extension.

At expiry the container is stopped, not removed: its GPUs go back to the pool (and so to the
waitlist), its host ports stay held so the student's SSH settings keep working when it comes
back. Revival starts the same container when its GPUs are free, otherwise commits it to an
image and recreates it on other free GPUs of the same host with the same ports and /workspace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.errors import UserError
from bot.i18n import t
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import inventory
from bot.usecases import schedule as sch
from bot.usecases.provision import Claim, run_spec
from bot.usecases.release import revival_repository
from bot.usecases.retention import workspace_note
from models import queries
from models.db import db
from models.states import State, check
from models.tables import GpuAllocation, Host, Rental

logger = logging.getLogger(__name__)


def reminder_key(rental: Rental, expires: datetime, offset: timedelta) -> str:
    return f"rem:{rental.id}:{sch.epoch(expires)}:{sch.seconds(offset)}"


async def send_reminders(services: Services, now: datetime) -> int:
    """The reminder due for each running rental, once; only the one still relevant."""
    offsets = services.config.lifecycle.reminders
    if not offsets:
        return 0
    soon = Rental.select().where(
        (Rental.state == State.ACTIVE.value) & (Rental.expires_at > queries.to_db(now))
        & (Rental.expires_at <= queries.to_db(now + max(offsets))))
    sent = 0
    for rental in soon:
        expires = queries.from_db(rental.expires_at)
        assert expires is not None
        offset = sch.relevant_offset(expires - now, offsets)
        started = queries.from_db(rental.started_at) or now
        if offset is None or expires - started <= offset:
            continue  # a 3-hour rental gets no "3 h left" the moment it starts
        if sch.claim(reminder_key(rental, expires, offset), now, rental):
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
    due = list(Rental.select().where((Rental.state == State.ACTIVE.value)
                                     & (Rental.expires_at <= queries.to_db(now))))
    return sum([await expire_one(services, rental, now) for rental in due])


async def expire_one(services: Services, rental: Rental, now: datetime) -> bool:
    if not await _stop(services, rental, now):
        return False  # still running: keep its GPUs, try again next tick
    if not _claim_expiry(rental, now):
        return False
    queries.audit("expired", now, rental=rental)
    await _tell_expired(services, rental)
    return True


async def _stop(services: Services, rental: Rental, now: datetime) -> bool:
    if not rental.container_id or rental.host is None:
        return True
    try:
        await services.runtime.stop(rental.host.name, rental.container_id)
    except RuntimeFaultError as fault:
        if fault.kind == "gone":
            return True
        expires = queries.from_db(rental.expires_at) or now
        sch.note_failure("stop_failed", f"stop:{rental.id}:{sch.epoch(expires)}", fault, now,
                         rental)
        return False
    return True


def _claim_expiry(rental: Rental, now: datetime) -> bool:
    """ACTIVE -> EXPIRED only if the end has not moved meanwhile (an extension won)."""
    check(State.ACTIVE, State.EXPIRED)
    with db.atomic():
        moved = (Rental.update(state=State.EXPIRED.value)
                 .where((Rental.id == rental.id) & (Rental.state == State.ACTIVE.value)
                        & (Rental.expires_at <= queries.to_db(now))).execute())
        if moved != 1:
            return False
        queries.release_gpus(rental, now)
        sch.unclaim(f"idle:{rental.id}")
    logger.info("rental R%d: active -> expired", rental.id)
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
    held = (Rental.select().join(GpuAllocation, on=GpuAllocation.rental == Rental.id)
            .where((Rental.state == State.EXPIRED.value) & GpuAllocation.released_at.is_null())
            .distinct())
    freed = 0
    for rental in held:
        if sch.locked(rental) or not await _stop(services, rental, now):
            continue
        freed += queries.release_gpus(rental, now)
    return freed


def last_gpus(rental: Rental) -> list[str]:
    """The GPUs the rental's container was made for (its most recent allocation)."""
    rows = list(GpuAllocation.select().where(GpuAllocation.rental == rental)
                .order_by(GpuAllocation.allocated_at.desc()))
    if not rows:
        return []
    return sorted((r.gpu_index for r in rows if r.allocated_at == rows[0].allocated_at), key=int)


async def revive(services: Services, rental: Rental, expires: datetime, now: datetime) -> Rental:
    """Bring an expired rental back as it was, running until ``expires``. UserError when it
    cannot be done now; nothing is then changed."""
    if not sch.lock(rental, now):
        raise UserError("life_busy", ref=rental.ref)
    try:
        fresh = Rental.get_by_id(rental.id)
        if State(fresh.state) is not State.EXPIRED or fresh.host is None:
            raise UserError("life_not_extendable", ref=rental.ref)
        await _revive_locked(services, fresh, expires, now)
    finally:
        sch.unlock(rental)
    queries.audit("revived", now, rental=rental)
    return Rental.get_by_id(rental.id)


async def _revive_locked(services: Services, rental: Rental, expires: datetime,
                         now: datetime) -> None:
    host = rental.host
    assert host is not None
    free = inventory.free_gpus(include_unreachable=True).get(host.name, [])
    same = last_gpus(rental)
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
            cid, name = await _start_same(services, rental)
        else:
            cid, name = await _recreate(services, rental, gpus, now)
    except RuntimeFaultError as fault:
        queries.release_gpus(rental, now)
        queries.audit("revive_failed", now, rental=rental, detail=fault.message[:500])
        raise UserError("life_revive_failed", ref=rental.ref) from fault
    queries.must_transition(rental.id, State.ACTIVE, expect=[State.EXPIRED],
                            expires_at=expires, container_id=cid, container_name=name)


def _hold_gpus(rental: Rental, host: Host, gpus: list[str], now: datetime) -> None:
    try:
        queries.allocate(rental, host, gpus, {}, now)  # ports are still held
    except queries.AllocationConflictError:
        raise UserError("life_busy", ref=rental.ref) from None


async def _wait_ready(services: Services, rental: Rental) -> None:
    ports = queries.rental_ports(rental)
    cfg = services.config.host(sch.host_name(rental))
    await services.runtime.wait_ready(cfg.name, cfg.public_address, ports[22],
                                      ports.get(8888), services.config.rental.ready_timeout_s)


async def _start_same(services: Services, rental: Rental) -> tuple[str, str]:
    host, cid = sch.host_name(rental), rental.container_id
    try:
        await services.runtime.start(host, cid)
        await _wait_ready(services, rental)
    except RuntimeFaultError:
        await _quietly(services.runtime.stop(host, cid), rental, "stop")
        raise
    return cid, rental.container_name


async def _recreate(services: Services, rental: Rental, gpus: list[str],
                    now: datetime) -> tuple[str, str]:
    """Commit the stopped container (system packages and all) and run that image on other
    GPUs. The password and Jupyter token live in the image, so the student changes nothing."""
    host_cfg = services.config.host(sch.host_name(rental))
    repo, tag = revival_repository(rental), f"rev{sch.epoch(now)}"
    base = run_spec(services, rental, Claim(host_cfg, tuple(gpus), queries.rental_ports(rental)),
                    token="")
    spec = replace(base, name=f"gpurent-r{rental.id}-{tag}", image=f"{repo}:{tag}", env={})
    await services.runtime.commit(host_cfg.name, rental.container_id, repo, tag)
    cid = await services.runtime.run(host_cfg.name, spec)
    try:
        await _wait_ready(services, rental)
    except RuntimeFaultError:
        await _quietly(services.runtime.remove(host_cfg.name, cid), rental, "remove")
        raise
    await _quietly(services.runtime.remove(host_cfg.name, rental.container_id), rental, "remove")
    logger.info("R%d: recreated from %s:%s on GPUs %s", rental.id, repo, tag, gpus)
    return cid, spec.name


async def _quietly(op: Awaitable[None], rental: Rental, what: str) -> None:
    try:
        await op
    except RuntimeFaultError as fault:
        logger.error("R%d: could not %s a container: %s", rental.id, what, fault.message)

