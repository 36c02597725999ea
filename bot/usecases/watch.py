"""A container that dies is noticed within seconds, not at the next reconcile: each host's
event stream is watched, the student is told why ("killed: out of memory") and the container
is brought back as the reconcile would.

Deaths we caused ourselves are not news: the rental's lock is held (release, revival,
restart), its time is up (the expiry stops it), it is no longer running in our records, or
its container runs again by the time we look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.i18n import t
from bot.ports import ContainerDeath, RuntimeFaultError
from bot.services import Services
from bot.usecases import admins, reconcile
from models import locks, notices, queries, rentals
from models.states import State

logger = logging.getLogger(__name__)

QUIET = timedelta(minutes=10)  # one "it died" message per rental in this time


def start(services: Services) -> None:
    """One watcher per configured host, for as long as the bot runs."""
    for host in services.config.hosts:
        services.watch(services.runtime.watch_deaths(host.name, _listener(services, host.name)),
                       name=f"watch-{host.name}")


def _listener(services: Services, host: str) -> Callable[[ContainerDeath], None]:
    return lambda death: _noticed(services, host, death)


def _noticed(services: Services, host: str, death: ContainerDeath) -> None:
    if death.action == "oom":
        services.oom_killed.add(death.cid)
    else:
        services.spawn(on_death(services, host, death), name=f"death-{death.cid[:12]}")


async def on_death(services: Services, host: str, death: ContainerDeath) -> bool:
    """Tell the student and bring the container back; False when the death was expected."""
    now = services.clock.now()
    rental = rentals.find(death.rental_id) if death.rental_id is not None else None
    oom = death.cid in services.oom_killed
    services.oom_killed.discard(death.cid)
    if rental is None or rental.state != State.ACTIVE.value or rental.container_id != death.cid:
        return False
    expires = queries.from_db(rental.expires_at)
    if locks.held(rental.id) or (expires is not None and expires <= now):
        return False
    if await _running_again(services, host, death.cid):
        return False
    why = _reason(rental.user.language, oom, death.exit_code)
    queries.audit("container_died", now, rental=rental, detail=why)
    if notices.claim(f"died:R{rental.id}:{int(now.timestamp()) // int(QUIET.total_seconds())}",
                     now, rental):
        await services.notifier.send(rental.user.telegram_id, t(
            rental.user.language, "died_student", ref=rental.ref, why=why))
        await admins.tell(services, "admin_died", None, ref=rental.ref, host=host,
                          why=_reason("en", oom, death.exit_code))
    await reconcile.bring_back(services, rental, now)
    return True


def _reason(lang: str, oom: bool, code: int | None) -> str:
    if oom:
        return t(lang, "died_oom")
    if code == 137:
        return t(lang, "died_killed")
    return t(lang, "died_exit", code="?" if code is None else code)


async def _running_again(services: Services, host: str, cid: str) -> bool:
    try:
        listed = await services.runtime.list_ours(host)
    except RuntimeFaultError:  # the reconcile will look again
        logger.debug("cannot list containers on %s", host, exc_info=True)
        return False
    return any(c == cid and state == "running" for c, _labels, state in listed)
