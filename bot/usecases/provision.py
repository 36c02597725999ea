"""From an approved request to a running container with credentials in the student's hands.

Placement and allocation are one database transaction (the unique indexes on live GPU and
port allocations make two racing provisioners fail cleanly and retry). Anything that goes
wrong after allocation is undone: container removed, GPUs and ports released.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from billing.payment import qr_png
from billing.quote import quote
from bot.config import HostConfig
from bot.i18n import esc, t
from bot.placement import best_fit, pick_ports
from bot.ports import RunSpec, RuntimeFaultError
from bot.services import Services
from bot.usecases import admins, inventory, progress
from bot.usecases import credentials as cred
from bot.usecases.release import credit_unused_days
from models import queries
from models.db import db
from models.states import State
from models.tables import ChatMessage, Host, Rental

logger = logging.getLogger(__name__)

PLACEMENT_TRIES = 5
WAITING = (State.APPROVED.value, State.QUEUED.value)
PORT_TRIES = 5


@dataclass(frozen=True)
class Claim:
    host: HostConfig
    gpu_ids: tuple[str, ...]
    ports: dict[int, int]


def container_ports(rental: Rental) -> list[int]:
    extras = [int(p) for p in rental.extra_ports.split(",") if p]
    return [22, 8888, *extras]


async def claim(services: Services, rental: Rental) -> Claim | None:
    """Place the rental and hold its GPUs and ports, or return None when nothing fits."""
    for _ in range(PLACEMENT_TRIES):
        if Rental.get_by_id(rental.id).state not in WAITING:
            return None  # cancelled or taken by another worker meanwhile
        spot = best_fit(rental.gpus, inventory.free_gpus())
        if spot is None:
            return None
        host_cfg = services.config.host(spot.host)
        host = Host.get(Host.name == spot.host)
        try:
            busy = await services.runtime.published_ports(spot.host)
        except RuntimeFaultError as fault:
            mark_unreachable(host, fault.message)
            continue
        wanted = container_ports(rental)
        free = pick_ports(host_cfg.port_range, busy | queries.held_ports(host), len(wanted))
        if len(free) < len(wanted):
            return None
        ports = dict(zip(wanted, free, strict=True))
        if _hold(services, rental, host, spot.gpu_ids, ports):
            return Claim(host=host_cfg, gpu_ids=spot.gpu_ids, ports=ports)
    return None


def _hold(services: Services, rental: Rental, host: Host, gpu_ids: tuple[str, ...],
          ports: dict[int, int]) -> bool:
    """Move the rental to provisioning and hold GPUs and ports, all or nothing."""
    now = services.clock.now()
    try:
        with db.atomic():
            if not queries.transition(rental.id, State.PROVISIONING,
                                      expect=[State(s) for s in WAITING], host=host.id):
                return False  # the loop's state check sees why
            queries.allocate(rental, host, list(gpu_ids), ports, now)
    except queries.AllocationConflictError:
        logger.info("R%d: lost a GPU/port race, placing again", rental.id)
        return False
    return True


def mark_unreachable(host: Host, message: str) -> None:
    Host.update(reachable=False, last_error=message[:500]).where(Host.id == host.id).execute()
    logger.warning("host %s marked unreachable: %s", host.name, message)


def run_spec(services: Services, rental: Rental, c: Claim, token: str) -> RunSpec:
    h = c.host
    n = len(c.gpu_ids)
    mem = _scale(h.memory_per_gpu, n) if h.memory_per_gpu else None
    cpus = int(h.cpus_per_gpu * n * 1e9) if h.cpus_per_gpu else None
    user = rental.user
    return RunSpec(
        name=f"gpurent-r{rental.id}", image=rental.image_ref, hostname=f"r{rental.id}",
        labels={"gpurent.rental": str(rental.id), "gpurent.user": str(user.telegram_id),
                "gpurent.host": h.name},
        gpu_ids=c.gpu_ids, ports=c.ports,
        workspace_dir=f"{h.workspace_root.rstrip('/')}/u{user.telegram_id}",
        env={"JUPYTER_TOKEN": token}, shm_size=h.shm_size, mem_limit=mem, nano_cpus=cpus,
        memlock=h.memlock,
    )


def _scale(size: str, n: int) -> str:
    digits = "".join(ch for ch in size if ch.isdigit())
    suffix = size[len(digits):]
    return f"{int(digits) * n}{suffix}"


async def start_container(services: Services, rental: Rental, c: Claim, token: str) -> str:
    """Run the container; when a host port turns out to be taken, swap it and try again."""
    for _ in range(PORT_TRIES):
        try:
            spec = run_spec(services, rental, c, token)
            return str(await services.runtime.run(c.host.name, spec))
        except RuntimeFaultError as fault:
            if fault.kind != "port_in_use" or fault.port is None:
                raise
            _swap_port(services, rental, c, fault.port)
    raise RuntimeFaultError("port_in_use", "no free host port after several tries", transient=True)


def _swap_port(services: Services, rental: Rental, c: Claim, taken: int) -> None:
    host = Host.get(Host.name == c.host.name)
    inner = next(k for k, v in c.ports.items() if v == taken)
    avoid = queries.held_ports(host) | {taken}
    new = pick_ports(c.host.port_range, avoid, 1, start_after=taken)
    if not new:
        raise RuntimeFaultError("port_in_use", "the host's port range is full", transient=True)
    queries.swap_port(rental, host, taken, new[0], services.clock.now())
    c.ports[inner] = new[0]
    logger.info("R%d: host port %d taken, using %d", rental.id, taken, new[0])


async def provision(services: Services, rental_id: int) -> bool:
    """Place and start one approved/queued rental. False when it must wait for GPUs."""
    rental = Rental.get_by_id(rental_id)
    c = await claim(services, rental)
    if c is None:
        await enqueue(services, rental)
        return False
    cid = ""
    try:
        status = progress.StatusMessage(services, rental)
        await status.show("prov_placing", host=c.host.name, gpus=",".join(c.gpu_ids))
        await progress.pull_with_progress(services, status, c.host.name, rental.image_ref)
        token = cred.new_token()
        cid = await start_container(services, rental, c, token)
        password = cred.new_password()
        await services.runtime.set_root_password(c.host.name, cid, password)
        await services.runtime.wait_ready(c.host.name, c.host.public_address, c.ports[22],
                                          c.ports[8888], services.config.rental.ready_timeout_s)
    except RuntimeFaultError as fault:
        await undo(services, rental, c, cid, fault)
        return False
    await activate(services, rental, c, cid, password, token)
    await status.show("prov_done")
    return True


async def activate(services: Services, rental: Rental, c: Claim, cid: str, password: str,
                   token: str) -> None:
    now = services.clock.now()
    duration = quote(services.config.prices, rental.gpus, rental.unit, rental.quantity,
                     services.config.rental.max_quantity).duration
    expires = now + duration
    queries.must_transition(rental.id, State.ACTIVE, expect=[State.PROVISIONING],
                            container_id=cid, container_name=f"gpurent-r{rental.id}",
                            started_at=now, expires_at=expires,
                            password_hash=cred.hash_password(password))
    queries.audit("active", now, rental=rental, detail=f"{c.host.name} gpus {c.gpu_ids}")
    await send_credentials(services, rental, c, password, token, expires)
    await admins.tell(services, "admin_up", ref=rental.ref, host=c.host.name,
                      gpus=",".join(c.gpu_ids), ssh=c.ports[22], jupyter=c.ports[8888])


async def send_credentials(services: Services, rental: Rental, c: Claim, password: str,
                           token: str, expires: datetime) -> None:
    user = rental.user
    lang = user.language
    now = services.clock.now()
    until = cred.delete_after(services, now)
    url = cred.jupyter_url(c.host.public_address, c.ports[8888], token)
    text = cred.credentials_text(services, lang, ref=rental.ref, host=c.host.name,
                                 address=c.host.public_address, ports=c.ports,
                                 password=password, url=url, expires=expires, delete_at=until)
    msg_id = await services.notifier.send(user.telegram_id, text)
    if msg_id is not None:
        ChatMessage.create(rental=rental, purpose="credentials", chat_id=user.telegram_id,
                           message_id=msg_id, delete_after=queries.to_db(until))
    photo_id = await services.notifier.send_photo(user.telegram_id, qr_png(url),
                                                  t(lang, "cred_qr", ref=rental.ref))
    if photo_id is not None:
        ChatMessage.create(rental=rental, purpose="credentials", chat_id=user.telegram_id,
                           message_id=photo_id, delete_after=queries.to_db(until))


async def undo(services: Services, rental: Rental, c: Claim, cid: str,
               fault: RuntimeFaultError) -> None:
    """Leave nothing behind: container, GPUs, ports. Then queue again or fail."""
    logger.warning("R%d: provisioning failed on %s: %s", rental.id, c.host.name, fault.message)
    if cid:
        try:
            await services.runtime.remove(c.host.name, cid)
        except RuntimeFaultError as exc:
            logger.error("R%d: could not remove container %s: %s", rental.id, cid, exc.message)
    now = services.clock.now()
    with db.atomic():
        queries.release_all(rental, now)
        if fault.transient:
            queries.must_transition(rental.id, State.QUEUED, expect=[State.PROVISIONING],
                                    queued_at=now, failure=fault.message[:500])
        else:
            queries.must_transition(rental.id, State.FAILED, expect=[State.PROVISIONING],
                                    ended_at=now, failure=fault.message[:500])
    if not fault.transient:
        credit_unused_days(services, Rental.get_by_id(rental.id), now)  # never ran: all back
    if fault.kind == "unreachable":
        mark_unreachable(Host.get(Host.name == c.host.name), fault.message)
    queries.audit("failed" if not fault.transient else "requeued", now, rental=rental,
                  detail=fault.message[:500])
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
    if not queries.transition(rental.id, State.QUEUED, expect=[State.APPROVED], queued_at=now):
        return  # already waiting (or gone): they were told when it was queued
    current = Rental.get_by_id(rental.id)
    position = inventory.queue_position(current)
    when = inventory.estimate_start(current, now)
    user = rental.user
    eta = (services.config.lab_time(when) if when
           else t(user.language, "eta_unknown"))
    await services.notifier.send(user.telegram_id, t(user.language, "prov_queued",
                                                     ref=rental.ref, position=position, eta=eta))
