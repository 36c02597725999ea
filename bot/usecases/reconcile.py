"""Docker against the database, level-triggered like a Kubernetes controller: at start-up and
every few minutes the containers carrying our label on every reachable host are compared with
what the database says should run, and each difference is put right.

- A running rental whose container is stopped is started again; one whose container is gone
  is recreated from its image with the same GPUs, host ports and ``/workspace`` (a fresh
  password then goes out: the old one lived in the lost container). Student and admins told.
- A container of ours that no rental owns (unknown, ended, or a duplicate left by a lost
  race) is removed; the admins are told.
- Approved rentals that never started are started; interrupted provisioning is rolled back
  and queued again.

Rentals whose lock is held, or whose provisioning runs in this process right now, are left
alone: their action is in the middle of changing exactly these containers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import admins, container, hosts, housekeeping, payments
from bot.usecases import credentials as cred
from bot.usecases.container_spec import LABEL, Claim
from bot.usecases.provision import send_credentials
from models import hosts as host_rows
from models import locks, queries, rentals
from models.states import State
from models.tables import Rental

logger = logging.getLogger(__name__)

HAS_CONTAINER = frozenset({State.ACTIVE, State.EXPIRED})


@dataclass(frozen=True)
class Seen:
    cid: str
    rental_id: int | None
    running: bool


async def reconcile(services: Services, now: datetime) -> int:
    """Put every difference right; returns how many were found."""
    fixed = 0
    for host in host_rows.enabled():
        if host.reachable and host.name in {h.name for h in services.config.hosts}:
            fixed += await _host(services, host.name, now)
    fixed += await _waiting(services, now)
    return fixed


async def _host(services: Services, host: str, now: datetime) -> int:
    try:
        listed = await services.runtime.list_ours(host)
    except RuntimeFaultError as fault:
        await hosts.host_down(services, host, fault.message)
        return 0
    seen = [Seen(cid, _rental_id(labels), state == "running") for cid, labels, state in listed]
    known = {r.id: r for r in rentals.among([b.rental_id for b in seen if b.rental_id])}
    fixed = 0
    for box in seen:
        if await _stray(services, host, box, now, known):
            fixed += 1
    for rental in rentals.on_host(host, [State.ACTIVE]):
        mine = next((b for b in seen if b.cid == rental.container_id), None)
        if mine is not None and mine.running:
            continue  # as it should be: nothing to ask about its lock
        if not _busy(services, rental):
            fixed += await _revive(services, rental, mine, now)
    return fixed


def _rental_id(labels: dict[str, str]) -> int | None:
    value = labels.get(LABEL, "")
    return int(value) if value.isascii() and value.isdigit() else None


def _busy(services: Services, rental: Rental) -> bool:
    return locks.held(rental.id) or services.running(f"provision-R{rental.id}")


async def _stray(services: Services, host: str, box: Seen, now: datetime,
                 known: dict[int, Rental]) -> bool:
    """Remove a container no rental owns; True if it was one. ``known``: the rentals the
    host's containers name, read in one query."""
    rental = known.get(box.rental_id) if box.rental_id is not None else None
    if rental is not None:
        if State(rental.state) in HAS_CONTAINER and rental.container_id == box.cid:
            return False  # its rental's own container (checked first: no lock to read)
        if _busy(services, rental) or State(rental.state) is State.PROVISIONING:
            return False
    try:
        await services.runtime.remove(host, box.cid)
    except RuntimeFaultError as fault:
        logger.error("reconcile: cannot remove stray container %s on %s: %s", box.cid[:12],
                     host, fault.message)
        return False
    ref = rental.ref if rental is not None else "?"
    queries.audit("stray_removed", now, rental=rental, detail=f"{host} {box.cid[:12]}")
    logger.warning("reconcile: removed container %s on %s (%s)", box.cid[:12], host, ref)
    await admins.tell(services, "admin_stray_removed", None, host=esc(host), cid=box.cid[:12],
                      ref=ref)
    return True


async def bring_back(services: Services, rental: Rental, now: datetime) -> int:
    """A running rental whose container died: started again, or recreated if it is gone."""
    host = container.host_of(services, rental).name
    try:
        listed = await services.runtime.list_ours(host)
    except RuntimeFaultError:
        return 0  # the host is away: the reconcile tries again when it answers
    box = next((Seen(c, rental.id, s == "running") for c, _l, s in listed
                if c == rental.container_id), None)
    if box is not None and box.running:
        return 0
    return await _revive(services, rental, box, now)


async def _revive(services: Services, rental: Rental, box: Seen | None, now: datetime) -> int:
    """A running rental whose container stopped or vanished behind our back."""
    try:
        with container.hold(rental, now):
            fresh = rentals.get(rental.id)
            if fresh.state != State.ACTIVE.value or fresh.container_id != rental.container_id:
                return 0
            lost = box is None
            if lost:
                await _recreate(services, fresh, now)
            else:
                await container.start(services, fresh)
    except UserError:
        return 0
    except RuntimeFaultError as fault:
        logger.error("reconcile: %s could not be brought back: %s", rental.ref, fault.message)
        queries.audit("reconcile_failed", now, rental=rental, detail=fault.message[:500])
        return 0
    await _tell_back(services, rental, lost)
    return 1


async def _recreate(services: Services, rental: Rental, now: datetime) -> None:
    """From the rental's image, on its GPUs and ports; a fresh password and token, sent like
    the first ones (or later, if Telegram is away)."""
    gpus = queries.rental_gpus(rental)
    token, password = cred.new_token(), cred.new_password()
    cid, name = await container.recreate(services, rental, gpus, now, image=rental.image_ref,
                                         token=token)
    await container.set_password(services, rental, cid, password)
    rentals.replaced_container(rental.id, cid, name, cred.hash_password(password))
    c = Claim(container.host_of(services, rental), tuple(gpus), queries.rental_ports(rental))
    expires = queries.from_db(rental.expires_at) or now
    await send_credentials(services, rentals.get(rental.id), c, password, token, expires)


async def _tell_back(services: Services, rental: Rental, lost: bool) -> None:
    user = rental.user
    key = "reconcile_recreated" if lost else "reconcile_restarted"
    await services.notifier.send(user.telegram_id, t(user.language, key, ref=rental.ref))
    await admins.tell(services, "admin_" + key, None, ref=rental.ref)


async def _waiting(services: Services, now: datetime) -> int:
    """Approved rentals nobody started (a crash right after the decision), and provisioning
    that this process is not running any more, are picked up again."""
    started = 0
    for rental in rentals.in_states([State.APPROVED]):
        if not services.running(f"provision-R{rental.id}"):
            started += payments.start_if_payable(services, rental)
    return started + await housekeeping.requeue_orphans(services, now)
