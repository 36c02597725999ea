"""A rental's container: the one module that creates, starts, stops, recreates, commits and
removes it (in the spirit of dockerspawner's ``Spawner``).

Every verb takes a rental and keeps Docker and the database consistent: a host port found
taken is swapped in the database before the next try, a half-made container is removed, GPUs
given for a failed start are released by the caller's state change. Use cases decide *when*;
this module knows *how*. Slow work holds the rental's lock (:func:`hold`), so a revival, a
release and a removal never run on the same rental at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from bot.config import HostConfig
from bot.errors import UserError
from bot.placement import pick_ports
from bot.ports import Progress, RuntimeFaultError
from bot.services import Services
from bot.usecases.container_spec import (
    LABEL,
    Claim,
    container_name,
    image_tag,
    revival_repository,
    run_spec,
    workspace_name,
)
from docker_ops.imageref import parse_custom_ref, registry_allowed
from models import locks, queries
from models.tables import Rental, User

logger = logging.getLogger(__name__)

PORT_TRIES = 5
def host_of(services: Services, rental: Rental) -> HostConfig:
    host = rental.host
    if host is None:
        raise ValueError(f"{rental.ref} was never placed on a host")
    return services.config.host(str(host.name))


@contextmanager
def hold(rental: Rental, now: datetime) -> Iterator[None]:
    """The rental's lock for the duration of a block; UserError ``life_busy`` when another
    action holds it."""
    if not locks.take(rental.id, now):
        raise UserError("life_busy", ref=rental.ref)
    try:
        yield
    finally:
        locks.give_back(rental.id)


def is_catalogue(services: Services, ref: str) -> bool:
    return any(image.ref == ref for image in services.config.images)


async def image_for_run(services: Services, host: str, ref: str,
                        on_progress: Progress | None = None) -> str:
    """What to run for ``ref`` on ``host``: a catalogue image as it is (pulled when absent);
    a student's own reference always pulled from its (allowed) registry and run by the digest
    just pulled, never an image that merely has that name on the host."""
    if is_catalogue(services, ref):
        await services.runtime.ensure_image(host, ref, on_progress)
        return ref
    try:
        parsed = parse_custom_ref(ref)
    except ValueError as exc:  # ReservedImageError too
        raise RuntimeFaultError("pull", f"{ref}: {exc}", transient=False) from None
    if not registry_allowed(parsed, services.config.rental.registry_allow):
        raise RuntimeFaultError("pull", f"{ref}: its registry is not allowed",
                                transient=False)
    return await services.runtime.pull_pinned(host, str(parsed), on_progress)


async def create(services: Services, rental: Rental, c: Claim, token: str,
                 image: str | None = None) -> str:
    """Run the rental's container (from ``image``, what :func:`image_for_run` gave, else the
    rental's own reference); a host port that turns out to be taken (outside our records) is
    swapped for another, in the database first, and the run tried again; a leftover of this
    rental holding its name is removed first."""
    for attempt in range(PORT_TRIES):
        spec = run_spec(rental, c, token)
        spec = replace(spec, image=image) if image else spec
        try:
            return str(await services.runtime.run(c.host.name, spec))
        except RuntimeFaultError as fault:
            if fault.kind == "name_in_use" and attempt == 0:
                # Left by a process that died mid-way (its cleanup raced a start in progress).
                await remove_leftovers(services, c.host.name, rental)
                continue
            if fault.kind != "port_in_use" or fault.port is None:
                raise
            _swap_port(services, rental, c, fault.port)
    raise RuntimeFaultError("port_in_use", "no free host port after several tries", transient=True)


def _swap_port(services: Services, rental: Rental, c: Claim, taken: int) -> None:
    host = queries.host_named(c.host.name)
    inner = next(k for k, v in c.ports.items() if v == taken)
    avoid = queries.held_ports(host) | {taken}
    new = pick_ports(c.host.port_range, avoid, 1, start_after=taken)
    if not new:
        raise RuntimeFaultError("port_in_use", "the host's port range is full", transient=True)
    queries.swap_port(rental, host, taken, new[0], services.clock.now())
    c.ports[inner] = new[0]
    logger.info("R%d: host port %d taken, using %d", rental.id, taken, new[0])


async def wait_ready(services: Services, rental: Rental, c: Claim | None = None,
                     jupyter: bool = True) -> None:
    """SSH (and Jupyter, when published and the image has it) answer on the rental's host
    ports."""
    cfg = c.host if c is not None else host_of(services, rental)
    ports = c.ports if c is not None else queries.rental_ports(rental)
    await services.runtime.wait_ready(cfg.name, cfg.public_address, ports[22],
                                      ports.get(8888) if jupyter else None,
                                      services.config.rental.ready_timeout_s)


async def start(services: Services, rental: Rental) -> tuple[str, str]:
    """Start the rental's stopped container and wait until it answers; stopped again when it
    does not."""
    host, cid = host_of(services, rental).name, rental.container_id
    try:
        await services.runtime.start(host, cid)
        await wait_ready(services, rental, jupyter=await check_image(services, host, cid))
    except RuntimeFaultError:
        await _quietly(services.runtime.stop(host, cid), rental, "stop")
        raise
    return cid, rental.container_name


async def stop(services: Services, rental: Rental) -> None:
    """Stop the container (one that is gone already counts as stopped)."""
    if not rental.container_id or rental.host is None:
        return
    try:
        await services.runtime.stop(host_of(services, rental).name, rental.container_id)
    except RuntimeFaultError as fault:
        if fault.kind != "gone":
            raise


async def recreate(services: Services, rental: Rental, gpus: list[str], now: datetime,
                   image: str | None = None, token: str = "") -> tuple[str, str]:
    """A new container on ``gpus`` with the same host ports and ``/workspace``: from a commit
    of the (stopped) old one, system packages and all (its Jupyter token and password come
    with it), or fresh from ``image`` with Jupyter token ``token`` (the caller then sets a
    password). The old container is removed only once the new one answers. Returns
    (container id, name)."""
    cfg = host_of(services, rental)
    tag = image_tag("rev", now)
    if image is None:
        image = f"{revival_repository(rental)}:{tag}"
        await commit(services, rental, tag)
    else:
        image = await image_for_run(services, cfg.name, image)
    c = Claim(cfg, tuple(gpus), queries.rental_ports(rental))
    spec = replace(run_spec(rental, c, token=token), name=f"{container_name(rental)}-{tag}",
                   image=image)
    cid = await services.runtime.run(cfg.name, spec)
    try:
        await wait_ready(services, rental, c, await check_image(services, cfg.name, cid))
    except RuntimeFaultError:
        await _quietly(services.runtime.remove(cfg.name, cid), rental, "remove")
        raise
    await _quietly(services.runtime.remove(cfg.name, rental.container_id), rental, "remove")
    logger.info("R%d: recreated from %s on GPUs %s", rental.id, image, gpus)
    return cid, spec.name


async def set_password(services: Services, rental: Rental, cid: str, password: str) -> None:
    """A new root password (chpasswd on exec stdin: never a command line or a log)."""
    await services.runtime.set_root_password(host_of(services, rental).name, cid, password)


async def commit(services: Services, rental: Rental, tag: str) -> str:
    """Snapshot the stopped container as ``gpurent/r<id>:<tag>``; returns the image id."""
    host = host_of(services, rental).name
    return await services.runtime.commit(host, rental.container_id, revival_repository(rental),
                                         tag)


async def remove(services: Services, rental: Rental) -> None:
    """The container and the images its revivals left behind (disk is not free)."""
    if not rental.container_id or rental.host is None:
        return
    host = host_of(services, rental).name
    await services.runtime.remove(host, rental.container_id)
    try:
        await services.runtime.remove_images(host, revival_repository(rental))
    except RuntimeFaultError as fault:
        logger.warning("R%d: revival images not removed: %s", rental.id, fault.message)


async def remove_quietly(services: Services, host: str, cid: str, rental: Rental) -> None:
    """Remove a half-made container; a failure is logged, the caller goes on undoing."""
    await _quietly(services.runtime.remove(host, cid), rental, "remove")


async def remove_leftovers(services: Services, host: str, rental: Rental) -> None:
    """Every container on ``host`` labelled as this rental's (found by label, not id: a crash
    may have come before the id was stored)."""
    try:
        for cid, labels, _state in await services.runtime.list_ours(host):
            if labels.get(LABEL) == str(rental.id):
                await services.runtime.remove(host, cid)
    except RuntimeFaultError as fault:
        logger.error("R%d: cannot clean up on %s: %s", rental.id, host, fault.message)


async def clear_workspace(services: Services, host: str, user: User, images: list[str],
                          stamp: str) -> None:
    """Delete (or archive, when configured) a student's workspace on ``host`` through a
    throwaway container; tries ``images`` in order until one can run."""
    root = services.config.host(host).workspace_root.rstrip("/")
    name = workspace_name(user)
    archive = services.config.lifecycle.archive_dir
    for image in images:
        try:
            if archive:
                await services.runtime.move_dir(host, image, root, name, archive,
                                                f"{name}-{stamp}")
            else:
                await services.runtime.remove_dir(host, image, root, name)
            return
        except RuntimeFaultError as fault:
            if fault.kind not in ("pull", "start") or image == images[-1]:
                raise


async def _quietly(op: Awaitable[None], rental: Rental, what: str) -> None:
    try:
        await op
    except RuntimeFaultError as fault:
        logger.error("R%d: could not %s a container: %s", rental.id, what, fault.message)


# --- student self-service (issue 9) ---------------------------------------------------------

NO_SSHD = ("this image has no OpenSSH server (sshd), so it cannot be rented as it is: nobody "
           "could log in")


async def check_image(services: Services, host: str, cid: str) -> bool:
    """Whether the running container's image has Jupyter; a permanent ``no_sshd`` fault at once
    when it has no sshd (waiting for an SSH banner that never comes helps nobody)."""
    found = await services.runtime.programs(host, cid)
    if "sshd" not in found:
        raise RuntimeFaultError("no_sshd", NO_SSHD, transient=False)
    return "jupyter-lab" in found


async def restart(services: Services, rental: Rental) -> None:
    """``docker restart`` and wait until it answers again (same container, same password)."""
    host, cid = host_of(services, rental).name, rental.container_id
    await services.runtime.restart(host, cid)
    await wait_ready(services, rental, jupyter=await check_image(services, host, cid))


@dataclass(frozen=True)
class Replacement:
    """The container that took a rental's place, and whether its image has Jupyter."""

    cid: str
    name: str
    ports: dict[int, int]
    jupyter: bool


async def replace_with(services: Services, rental: Rental, now: datetime, image: str,
                       password: str, token: str, ports: dict[int, int] | None = None,
                       snapshot: bool = False) -> Replacement:
    """A new container from ``image`` (or, with ``snapshot``, from a commit of the old one:
    system packages and all) on the rental's GPUs with ``ports`` (default: its own) and
    ``/workspace``, root's password set. The old one is stopped first (it holds the host
    ports) and removed only once the new one answers; when the new one fails it is removed,
    the old one is put back, and the fault raised."""
    cfg = host_of(services, rental)
    c = Claim(cfg, tuple(queries.rental_gpus(rental)), ports or queries.rental_ports(rental))
    tag = image_tag("chg", now)
    if not snapshot:  # pulled before the old one stops: a failed pull changes nothing
        image = await image_for_run(services, cfg.name, image)
    spec = replace(run_spec(rental, c, token), name=f"{container_name(rental)}-{tag}",
                   image=image)
    await _stop_old(services, rental)
    cid = ""
    try:
        if snapshot:
            await commit(services, rental, tag)
            spec = replace(spec, image=f"{revival_repository(rental)}:{tag}")
        cid = await services.runtime.run(cfg.name, spec)
        jupyter = await check_image(services, cfg.name, cid)
        await services.runtime.set_root_password(cfg.name, cid, password)
        await wait_ready(services, rental, c, jupyter)
    except RuntimeFaultError:
        if cid:
            await remove_quietly(services, cfg.name, cid, rental)
        await put_back(services, rental)
        raise
    await _quietly(services.runtime.remove(cfg.name, rental.container_id), rental, "remove")
    logger.info("R%d: replaced by a container from %s", rental.id, spec.image)
    return Replacement(cid, spec.name, dict(c.ports), jupyter)


async def _stop_old(services: Services, rental: Rental) -> None:
    try:
        await stop(services, rental)
    except RuntimeFaultError as fault:  # it may be what failed; the new one will tell
        logger.warning("R%d: old container not stopped: %s", rental.id, fault.message)


async def put_back(services: Services, rental: Rental) -> bool:
    """Start the rental's own container again after a replacement failed; False (logged) when
    it will not come back either."""
    if not rental.container_id:
        return False
    try:
        await start(services, rental)
    except RuntimeFaultError as fault:
        logger.error("R%d: the old container did not come back: %s", rental.id, fault.message)
        return False
    return True
