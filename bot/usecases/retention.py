"""No data lost by surprise: a stopped container is kept ``container_retention_days`` and a
student's workspace ``workspace_retention_days`` after their last rental on that host ends,
each with warnings that say exactly what goes and when (lab time).

Deletion waits for the last warning: if that went out late (the bot was down), the promised
notice still holds (:func:`bot.usecases.schedule.announced_time`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from peewee import fn

from bot.i18n import esc, t
from bot.ports import Keyboard, RuntimeFaultError
from bot.services import Services
from bot.usecases import schedule as sch
from bot.usecases.release import remove_container
from models import queries
from models.db import db
from models.states import State
from models.tables import Host, Notice, Rental, User

logger = logging.getLogger(__name__)

ON_HOST = (State.PROVISIONING, State.ACTIVE, State.EXPIRED)  # a workspace in use


@dataclass(frozen=True)
class Schedule:
    """One thing to delete at ``due``, warned at ``offsets`` before; ``key`` names the cycle."""

    key: str
    due: datetime
    offsets: tuple[timedelta, ...]

    def warning_key(self, offset: timedelta) -> str:
        return f"{self.key}:w{sch.seconds(offset)}"

    def deletion_time(self) -> datetime | None:
        """None until the last warning has gone out."""
        if not self.offsets:
            return self.due
        final = min(self.offsets)
        sent = sch.claimed_at(self.warning_key(final))
        return None if sent is None else sch.announced_time(self.due, sent, final)

    def warning_due(self, now: datetime) -> tuple[str, datetime] | None:
        """(claim key, announced deletion time) of the warning to send now, if any."""
        offset = sch.relevant_offset(self.due - now, self.offsets)
        if offset is None:
            return None
        when = sch.announced_time(self.due, now, offset) if offset == min(self.offsets) \
            else self.due
        return self.warning_key(offset), when


async def _warn(schedule: Schedule, now: datetime, rental: Rental | None) -> datetime | None:
    """Claim the warning due now; returns the deletion time to announce, or None."""
    due = schedule.warning_due(now)
    if due is None or not sch.claim(due[0], now, rental):
        return None
    return due[1]


# --- stopped containers -------------------------------------------------------------------

def container_schedule(services: Services, rental: Rental) -> Schedule:
    expires = queries.from_db(rental.expires_at)
    assert expires is not None
    cfg = services.config.lifecycle
    return Schedule(f"ct:{rental.id}:{sch.epoch(expires)}", expires + cfg.container_retention,
                    cfg.container_warnings)


async def remove_containers(services: Services, now: datetime) -> int:
    """Warn about, then remove, stopped containers whose retention ran out."""
    removed = 0
    for rental in list(Rental.select().where(Rental.state == State.EXPIRED.value)):
        plan = container_schedule(services, rental)
        when = await _warn(plan, now, rental)
        if when is not None:
            lang = rental.user.language
            await _tell(services, rental.user, "life_ct_warning",
                        [[sch.extend_button(lang, rental)]], ref=rental.ref,
                        host=esc(sch.host_name(rental)), at=sch.lab_time(services, when),
                        left=sch.span_text(lang, when - now))
        deletion = plan.deletion_time()
        if deletion is not None and now >= deletion:
            removed += await _remove_container(services, rental, plan, now)
    return removed


async def _remove_container(services: Services, rental: Rental, plan: Schedule,
                            now: datetime) -> int:
    if not sch.lock(rental, now):
        return 0  # being revived right now
    try:
        fresh = Rental.get_by_id(rental.id)
        if fresh.state != State.EXPIRED.value or fresh.expires_at != rental.expires_at:
            return 0
        if fresh.container_id and fresh.host is not None:
            await remove_container(services, fresh.host.name, fresh)
        with db.atomic():
            queries.must_transition(rental.id, State.RELEASED, expect=[State.EXPIRED],
                                    ended_at=queries.from_db(fresh.expires_at))
            queries.release_all(rental, now)
    except RuntimeFaultError as fault:
        sch.note_failure("remove_failed", plan.key, fault, now, rental)
        return 0
    finally:
        sch.unlock(rental)
    queries.audit("container_removed", now, rental=rental)
    await _tell(services, rental.user, "life_ct_removed", None, ref=rental.ref,
                workspace=workspace_note(services, rental))
    return 1


def workspace_note(services: Services, rental: Rental) -> str:
    """How long the workspace stays once this (expired) rental's container is gone."""
    keep = services.config.lifecycle.workspace_retention
    lang = rental.user.language
    if keep is None:
        return t(lang, "life_ws_forever")
    expires = queries.from_db(rental.expires_at)
    assert expires is not None
    return t(lang, "life_ws_until", at=sch.lab_time(services, expires + keep))


# --- workspaces ---------------------------------------------------------------------------

def workspace_name(user: User) -> str:
    return f"u{user.telegram_id}"  # as bot.usecases.provision.run_spec binds it


def idle_workspaces() -> list[tuple[Host, User, datetime]]:
    """(host, student, end of their last rental there) for workspaces no rental uses."""
    last = fn.MAX(Rental.ended_at).python_value(Rental.ended_at.python_value)
    query = (Rental.select(Rental.host, Rental.user, last)
             .where((Rental.state == State.RELEASED.value) & Rental.host.is_null(False)
                    & Rental.ended_at.is_null(False))
             .group_by(Rental.host, Rental.user).tuples())
    rows = cast(list[tuple[int, int, datetime | None]], list(query))
    in_use = (Rental.select(Rental.host, Rental.user)
              .where(Rental.state.in_([s.value for s in ON_HOST])).tuples())
    busy = set(cast(list[tuple[int, int]], list(in_use)))
    found = []
    for host_id, user_id, ended in rows:
        end = queries.from_db(ended)
        if (host_id, user_id) not in busy and end is not None:
            found.append((Host.get_by_id(host_id), User.get_by_id(user_id), end))
    return found


def workspace_schedule(services: Services, host: Host, user: User, end: datetime,
                       keep: timedelta) -> Schedule:
    return Schedule(f"ws:{host.id}:{user.id}:{sch.epoch(end)}", end + keep,
                    services.config.lifecycle.workspace_warnings)


async def clear_workspaces(services: Services, now: datetime) -> int:
    """Warn about, then delete (or archive), workspaces whose retention ran out."""
    keep = services.config.lifecycle.workspace_retention
    if keep is None:
        return 0  # kept forever
    cleared = 0
    done = _cleared_keys()
    configured = {h.name for h in services.config.hosts}
    for host, user, end in idle_workspaces():
        plan = workspace_schedule(services, host, user, end, keep)
        if plan.key in done or host.name not in configured:
            continue
        when = await _warn(plan, now, None)
        if when is not None:
            await _warn_workspace(services, host, user, when, now)
        deletion = plan.deletion_time()
        if deletion is not None and now >= deletion:
            cleared += await _clear(services, host, user, plan, now)
    return cleared


def _cleared_keys() -> set[str]:
    rows = Notice.select(Notice.key).where(Notice.key.startswith("done:ws:"))
    return {r.key.removeprefix("done:") for r in rows}


async def _warn_workspace(services: Services, host: Host, user: User, when: datetime,
                          now: datetime) -> None:
    archive = services.config.lifecycle.archive_dir
    key = "life_ws_warning_archive" if archive else "life_ws_warning"
    await _tell(services, user, key, None, host=esc(host.name),
                path=esc(_path(services, host, user)), at=sch.lab_time(services, when),
                archive=esc(archive), left=sch.span_text(user.language, when - now))


def _path(services: Services, host: Host, user: User) -> str:
    root = services.config.host(host.name).workspace_root.rstrip("/")
    return f"{root}/{workspace_name(user)}"


async def _clear(services: Services, host: Host, user: User, plan: Schedule,
                 now: datetime) -> int:
    busy = Rental.select().where((Rental.host == host) & (Rental.user == user)
                                 & Rental.state.in_([s.value for s in ON_HOST])).exists()
    if busy:
        return 0
    try:
        await _delete_dir(services, host, user, now)
    except RuntimeFaultError as fault:
        sch.note_failure("workspace_failed", plan.key, fault, now)
        return 0
    if not sch.claim(f"done:{plan.key}", now):
        return 0
    queries.audit("workspace_cleared", now, detail=f"{host.name} {_path(services, host, user)}")
    archive = services.config.lifecycle.archive_dir
    await _tell(services, user, "life_ws_archived" if archive else "life_ws_deleted", None,
                host=esc(host.name), path=esc(_path(services, host, user)), archive=esc(archive))
    return 1


async def _delete_dir(services: Services, host: Host, user: User, now: datetime) -> None:
    """Through a throwaway container on the host; tries the images the host should have."""
    root = services.config.host(host.name).workspace_root.rstrip("/")
    name = workspace_name(user)
    archive = services.config.lifecycle.archive_dir
    stamp = now.astimezone(services.config.tz).strftime("%Y%m%d-%H%M")
    images = _helper_images(services, host, user)
    for image in images:
        try:
            if archive:
                await services.runtime.move_dir(host.name, image, root, name, archive,
                                                f"{name}-{stamp}")
            else:
                await services.runtime.remove_dir(host.name, image, root, name)
            return
        except RuntimeFaultError as fault:
            if fault.kind not in ("pull", "start") or image == images[-1]:
                raise


def _helper_images(services: Services, host: Host, user: User) -> list[str]:
    used = (Rental.select(Rental.image_ref).where((Rental.host == host) & (Rental.user == user))
            .order_by(Rental.id.desc()).first())
    refs = ([used.image_ref] if used else []) + [i.ref for i in services.config.images]
    return list(dict.fromkeys(refs))


async def _tell(services: Services, user: User, key: str, buttons: Keyboard | None,
                **values: object) -> None:
    await services.notifier.send(user.telegram_id, t(user.language, key, **values), buttons)
