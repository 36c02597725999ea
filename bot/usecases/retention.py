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

from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import Keyboard, RuntimeFaultError
from bot.services import Services
from bot.usecases import container
from bot.usecases import schedule as sch
from bot.usecases.container_spec import workspace_name
from models import notices, queries, rentals, workspaces
from models.db import db
from models.states import WAITING, State
from models.tables import Host, Rental, User

logger = logging.getLogger(__name__)

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


async def _warn(schedule: Schedule, now: datetime, rental: Rental | None,
                claimed: set[str]) -> datetime | None:
    """Claim the warning due now; returns the deletion time to announce, or None.
    ``claimed``: the warnings known to be sent already (read for all schedules at once)."""
    due = schedule.warning_due(now)
    if due is None or due[0] in claimed or not sch.claim(due[0], now, rental):
        return None
    return due[1]


def _sent(plans: list[Schedule], now: datetime) -> set[str]:
    """Of the warnings due now, those already claimed: one query for every schedule."""
    keys = [due[0] for due in (p.warning_due(now) for p in plans) if due is not None]
    return notices.claimed_among(keys)


def _deletion_due(plan: Schedule, now: datetime) -> bool:
    # Never before ``due`` (a late warning only moves it later): no claim to read until then.
    if now < plan.due:
        return False
    deletion = plan.deletion_time()
    return deletion is not None and now >= deletion


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
    expired = rentals.in_states([State.EXPIRED])
    plans = [container_schedule(services, rental) for rental in expired]
    claimed = _sent(plans, now)
    for rental, plan in zip(expired, plans, strict=True):
        when = await _warn(plan, now, rental, claimed)
        if when is not None:
            lang = rental.user.language
            await _tell(services, rental.user, "life_ct_warning",
                        [[sch.extend_button(lang, rental)]], ref=rental.ref,
                        host=esc(sch.host_name(rental)), at=sch.lab_time(services, when),
                        left=sch.span_text(lang, when - now))
        if _deletion_due(plan, now):
            removed += await _remove_container(services, rental, plan, now)
    return removed


async def _remove_container(services: Services, rental: Rental, plan: Schedule,
                            now: datetime) -> int:
    try:
        with container.hold(rental, now):
            fresh = rentals.get(rental.id)
            if fresh.state != State.EXPIRED.value or fresh.expires_at != rental.expires_at:
                return 0
            await container.remove(services, fresh)
            with db.atomic():
                rentals.must_transition(rental.id, State.RELEASED, now, expect=[State.EXPIRED],
                                        audit="container_removed",
                                        ended_at=queries.from_db(fresh.expires_at))
                queries.release_all(rental, now)
    except UserError:
        return 0  # being revived or released right now
    except RuntimeFaultError as fault:
        sch.note_failure("remove_failed", plan.key, fault, now, rental)
        return 0
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
    configured = {h.name for h in services.config.hosts}
    idle = [(host, user, workspace_schedule(services, host, user, end, keep))
            for host, user, end in workspaces.idle_uncleared()  # deleted cycles left out
            if host.name in configured]
    claimed = _sent([plan for _, _, plan in idle], now)
    for host, user, plan in idle:
        when = await _warn(plan, now, None, claimed)
        if when is not None:
            await _warn_workspace(services, host, user, when, now)
        if _deletion_due(plan, now):
            cleared += await _clear(services, host, user, plan, now)
    return cleared


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
    """Start deleting the workspace beside the tick (a big one takes a while); provisioning
    keeps the student's rentals off this host until it is done."""
    if workspaces.in_use(host, user) or rentals.of_user(user, WAITING):
        return 0  # in use, or a request of theirs may land here: not now
    if not workspaces.begin_clearing(host, user, now):
        return 0  # already being deleted
    if workspaces.in_use(host, user):  # placed here between the check and the mark
        workspaces.end_clearing(host, user)
        return 0
    services.spawn(_clear_now(services, host, user, plan, now),
                   name=f"clear-ws-{host.id}-{user.id}")
    return 1


async def _clear_now(services: Services, host: Host, user: User, plan: Schedule,
                     now: datetime) -> None:
    try:
        await _delete_dir(services, host, user, now)
    except RuntimeFaultError as fault:
        sch.note_failure("workspace_failed", plan.key, fault, now)
        return
    finally:
        workspaces.end_clearing(host, user)
    if not sch.claim(f"done:{plan.key}", now):
        return
    queries.audit("workspace_cleared", now, detail=f"{host.name} {_path(services, host, user)}")
    archive = services.config.lifecycle.archive_dir
    await _tell(services, user, "life_ws_archived" if archive else "life_ws_deleted", None,
                host=esc(host.name), path=esc(_path(services, host, user)), archive=esc(archive))


def helper_image(services: Services) -> str:
    """The admin's workspace helper image; never a student's (it could bring its own ``rm``)."""
    return services.config.lifecycle.helper_image or services.config.images[0].ref


async def _delete_dir(services: Services, host: Host, user: User, now: datetime) -> None:
    """Through a throwaway container on the host, from the admin's helper image."""
    stamp = now.astimezone(services.config.tz).strftime("%Y%m%d-%H%M")
    await container.clear_workspace(services, host.name, user, [helper_image(services)], stamp)


async def _tell(services: Services, user: User, key: str, buttons: Keyboard | None,
                **values: object) -> None:
    await services.notifier.send(user.telegram_id, t(user.language, key, **values), buttons)
