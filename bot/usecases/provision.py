"""From an approved request to a running container with credentials in the student's hands.

Placement and allocation are one database transaction (the unique indexes on live GPU and
port allocations make two racing provisioners fail cleanly and retry). Anything that goes
wrong after allocation is undone: container removed, GPUs and ports released. The container
work itself is :mod:`bot.usecases.container`'s.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from billing.payment import qr_png
from billing.quote import quote
from bot.i18n import esc, t
from bot.placement import best_fit, pick_ports
from bot.ports import DeliveryDelayedError, RuntimeFaultError
from bot.services import Services
from bot.usecases import admins, container, hosts, inventory, keyring, progress
from bot.usecases import credentials as cred
from bot.usecases.container_spec import Claim, container_name, container_ports
from bot.usecases.release import credit_unused_days
from models import queries, rentals, workspaces
from models.db import db
from models.states import WAITING, State
from models.tables import Rental

logger = logging.getLogger(__name__)

PLACEMENT_TRIES = 5


async def claim(services: Services, rental: Rental) -> Claim | None:
    """Place the rental and hold its GPUs and ports, or return None when nothing fits."""
    for _ in range(PLACEMENT_TRIES):
        if rentals.state_of(rental.id) not in WAITING:
            return None  # cancelled or taken by another worker meanwhile
        spot = best_fit(rental.gpus, _placeable(rental))
        if spot is None:
            return None
        host_cfg = services.config.host(spot.host)
        host = queries.host_named(spot.host)
        try:
            busy = await services.runtime.published_ports(spot.host)
        except RuntimeFaultError as fault:
            await hosts.host_down(services, spot.host, fault.message)
            continue
        wanted = container_ports(rental)
        free = pick_ports(host_cfg.port_range, busy | queries.held_ports(host), len(wanted))
        if len(free) < len(wanted):
            return None
        ports = dict(zip(wanted, free, strict=True))
        if _hold(services, rental, host, spot.gpu_ids, ports):
            return Claim(host=host_cfg, gpu_ids=spot.gpu_ids, ports=ports)
    return None


def _placeable(rental: Rental) -> dict[str, list[str]]:
    """Free GPUs per host, less the hosts where the student's workspace is being deleted."""
    busy = workspaces.clearing_hosts(rental.user)
    return {host: gpus for host, gpus in inventory.free_gpus().items() if host not in busy}


def _hold(services: Services, rental: Rental, host: queries.Host, gpu_ids: tuple[str, ...],
          ports: dict[int, int]) -> bool:
    """Move the rental to provisioning and hold GPUs and ports, all or nothing."""
    now = services.clock.now()
    try:
        with db.atomic():
            if not rentals.transition(rental.id, State.PROVISIONING, now, expect=WAITING,
                                      host=host.id, detail=f"{host.name} gpus {gpu_ids}"):
                return False  # the loop's state check sees why
            queries.allocate(rental, host, list(gpu_ids), ports, now)
    except queries.AllocationConflictError:
        logger.info("R%d: lost a GPU/port race, placing again", rental.id)
        return False
    return True


async def provision(services: Services, rental_id: int) -> bool:
    """Place and start one approved/queued rental. False when it must wait for GPUs."""
    rental = rentals.get(rental_id)
    c = await claim(services, rental)
    if c is None:
        await enqueue(services, rental)
        return False
    return await build(services, rental, c)


async def build(services: Services, rental: Rental, c: Claim) -> bool:
    """The container work for a placed rental, a few rentals per host at a time, so one slow
    or failing rental never holds up the others. False when it failed (and was undone)."""
    async with services.host_slot(c.host.name):
        return await _build(services, rental, c)


async def _build(services: Services, rental: Rental, c: Claim) -> bool:
    cid = ""
    try:
        status = progress.StatusMessage(services, rental)
        await status.show("prov_placing", host=c.host.name, gpus=",".join(c.gpu_ids))
        image = await progress.pull_with_progress(services, status, c.host.name,
                                                  rental.image_ref)
        token = cred.new_token()
        cid = await container.create(services, rental, c, token, image)
        jupyter, password, hashed = await _ready(services, rental, c, cid)
    except RuntimeFaultError as fault:
        await undo(services, rental, c, cid, fault)
        return False
    except Exception as exc:  # a bug must not leave GPUs, ports or a container behind
        logger.exception("R%d: provisioning broke", rental.id)
        await undo(services, rental, c, cid, RuntimeFaultError(
            "start", f"internal error ({type(exc).__name__}); the admins were told",
            transient=False))
        return False
    await activate(services, rental, c, cid, password, token, jupyter, hashed)
    await status.show("prov_done")
    return True


async def _ready(services: Services, rental: Rental, c: Claim, cid: str) -> tuple[bool, str, str]:
    """(Jupyter?, password, its hash) once the started container answers. The image is
    checked first (one without sshd fails before anything else is done); then readiness is
    probed while the root password is set and hashed (in a thread), not after."""
    jupyter = await container.check_image(services, c.host.name, cid)
    ready = asyncio.ensure_future(container.wait_ready(services, rental, c, jupyter))
    try:
        password = cred.new_password()
        await services.runtime.set_root_password(c.host.name, cid, password)
        if await keyring.install(services, rental, c.host.name, cid):  # the student's keys
            password = t(rental.user.language, "cred_keys_only")
        _, hashed = await asyncio.gather(ready, asyncio.to_thread(cred.hash_password, password))
    finally:
        if not ready.done():
            ready.cancel()  # a step above failed: stop probing
        elif not ready.cancelled():
            ready.exception()  # seen, so asyncio does not warn about it
    return jupyter, password, hashed


async def activate(services: Services, rental: Rental, c: Claim, cid: str, password: str,
                   token: str, jupyter: bool = True, password_hash: str | None = None) -> None:
    now = services.clock.now()
    duration = quote(services.config.prices, rental.gpus, rental.unit, rental.quantity,
                     services.config.rental.max_quantity).duration
    expires = now + duration
    rentals.must_transition(rental.id, State.ACTIVE, now, expect=[State.PROVISIONING],
                            detail=f"{c.host.name} gpus {c.gpu_ids}",
                            container_id=cid, container_name=container_name(rental),
                            started_at=now, expires_at=expires,
                            password_hash=password_hash or cred.hash_password(password))
    await send_credentials(services, rental, c, password, token, expires, jupyter)
    await admins.tell(services, "admin_up", ref=rental.ref, host=c.host.name,
                      gpus=",".join(c.gpu_ids), ssh=c.ports[22], jupyter=c.ports[8888])


async def send_credentials(services: Services, rental: Rental, c: Claim, password: str,
                           token: str | None, expires: datetime, jupyter: bool = True) -> bool:
    """The password message (and the Jupyter QR), deleted later. False when Telegram could
    not be reached: the rental is marked so a fresh password goes out once it answers
    (``bot/usecases/redeliver.py``); the password itself is written down nowhere."""
    user = rental.user
    lang = user.language
    now = services.clock.now()
    until = cred.delete_after(services, now)
    url = cred.jupyter_url(c.host.public_address, c.ports[8888], token or "")
    if not token:  # sent again later: the token is in the container, not in our records
        url = t(lang, "cred_jupyter_ssh", url=url)
    if not jupyter:  # the image has none: no link, no QR code
        url, token = t(lang, "cred_no_jupyter"), None
    text = cred.credentials_text(services, lang, ref=rental.ref, host=c.host.name,
                                 address=c.host.public_address, ports=c.ports,
                                 password=password, url=url, expires=expires, delete_at=until)
    try:
        msg_id = await services.notifier.send(user.telegram_id, text, secret=True)
    except DeliveryDelayedError as exc:
        logger.warning("R%d: credentials not delivered (%s); sent again later", rental.id, exc)
        rentals.set_credentials_due(rental.id, True)
        return False
    ids = [msg_id]
    if token:
        try:
            ids.append(await services.notifier.send_photo(
                user.telegram_id, qr_png(url), t(lang, "cred_qr", ref=rental.ref), secret=True))
        except DeliveryDelayedError:
            logger.warning("R%d: Jupyter QR code not delivered", rental.id)
    queries.credentials_messages(rental, user.telegram_id, ids, until)
    return True


async def undo(services: Services, rental: Rental, c: Claim, cid: str,
               fault: RuntimeFaultError) -> None:
    """Leave nothing behind: container, GPUs, ports. Then queue again or fail."""
    logger.warning("R%d: provisioning failed on %s: %s", rental.id, c.host.name, fault.message)
    if cid:
        await container.remove_quietly(services, c.host.name, cid, rental)
    now = services.clock.now()
    reason = fault.message[:500]
    with db.atomic():
        queries.release_all(rental, now)
        if fault.transient:
            rentals.must_transition(rental.id, State.QUEUED, now, expect=[State.PROVISIONING],
                                    audit="requeued", detail=reason, queued_at=now,
                                    failure=reason)
        else:
            rentals.must_transition(rental.id, State.FAILED, now, expect=[State.PROVISIONING],
                                    audit="failed", detail=reason, ended_at=now, failure=reason)
    if not fault.transient:
        credit_unused_days(services, rentals.get(rental.id), now)  # never ran: all back
    if fault.kind == "unreachable":
        await hosts.host_down(services, c.host.name, fault.message)
    await tell_failure(services, rental, fault)


async def tell_failure(services: Services, rental: Rental, fault: RuntimeFaultError) -> None:
    user = rental.user
    key = "prov_requeued" if fault.transient else "prov_failed"
    await services.notifier.send(user.telegram_id, t(user.language, key, ref=rental.ref,
                                                     reason=_plain(fault)))
    await admins.tell(services, "admin_failed", ref=rental.ref, reason=_plain(fault))


def _plain(fault: RuntimeFaultError) -> str:
    return esc(fault.message[:300])


async def enqueue(services: Services, rental: Rental) -> None:
    """Put an approved rental in the waitlist and tell the student where they stand."""
    now = services.clock.now()
    if not rentals.transition(rental.id, State.QUEUED, now, expect=[State.APPROVED],
                              queued_at=now):
        return  # already waiting (or gone): they were told when it was queued
    current = rentals.get(rental.id)
    position = inventory.queue_position(current)
    when = inventory.estimate_start(current, now)
    user = rental.user
    eta = (services.config.lab_time(when) if when
           else t(user.language, "eta_unknown"))
    await services.notifier.send(user.telegram_id, t(user.language, "prov_queued",
                                                     ref=rental.ref, position=position, eta=eta))
