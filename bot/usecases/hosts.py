"""Hosts and their GPUs: recorded at start-up and re-checked by the tick."""

from __future__ import annotations

import logging

from bot.i18n import esc, t
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import admins
from models import hosts, queries

logger = logging.getLogger(__name__)


async def sync_hosts(services: Services) -> dict[str, str]:
    """Reach every configured host, record its GPUs; returns problems by host name."""
    problems: dict[str, str] = {}
    for cfg in services.config.hosts:
        gpus: list[tuple[str, str, int]] = []
        try:
            await services.runtime.ping(cfg.name)
            gpus = await services.runtime.gpus(cfg.name)
            if not gpus:
                problems[cfg.name] = "no GPUs found"
        except RuntimeFaultError as fault:
            problems[cfg.name] = fault.message
        queries.ensure_hosts([(cfg.name, cfg.public_address, gpus)])
        reachable = cfg.name not in problems or problems[cfg.name] == "no GPUs found"
        hosts.set_reachable(cfg.name, reachable, problems.get(cfg.name, ""))
    for name, problem in problems.items():
        logger.warning("host %s: %s", name, problem)
    return problems


async def refresh_unreachable(services: Services) -> list[str]:
    """Ping hosts marked unreachable; the ones that answer take rentals again, and the admins
    and the students on them hear it once."""
    back: list[str] = []
    for host in hosts.unreachable():
        try:
            await services.runtime.ping(host.name)
            gpus = await services.runtime.gpus(host.name)
        except RuntimeFaultError:
            continue
        queries.ensure_hosts([(host.name, host.public_address, gpus)])
        if hosts.mark_up(host.name):
            back.append(host.name)
            logger.info("host %s is reachable again", host.name)
            await _tell_all(services, host.name, "admin_host_up", "host_up_student")
    return back


async def check_reachable(services: Services) -> list[str]:
    """Ping the hosts believed up; one that does not answer is marked down (once)."""
    down: list[str] = []
    for host in hosts.enabled():
        if not host.reachable:
            continue
        try:
            await services.runtime.ping(host.name)
        except RuntimeFaultError as fault:
            if await host_down(services, host.name, fault.message):
                down.append(host.name)
    return down


async def host_down(services: Services, name: str, reason: str) -> bool:
    """Mark the host down: placement skips it, nothing in the database changes, waiting
    requests keep waiting. The admins and its students are told only when it goes down."""
    if not hosts.mark_down(name, reason):
        return False
    logger.warning("host %s is unreachable: %s", name, reason)
    await _tell_all(services, name, "admin_host_down", "host_down_student",
                    reason=esc(reason[:200]))
    return True


async def _tell_all(services: Services, name: str, admin_key: str, student_key: str,
                    **values: str) -> None:
    await admins.tell(services, admin_key, None, host=esc(name), **values)
    for user in hosts.students_on(name):
        await services.notifier.send(user.telegram_id, t(user.language, student_key,
                                                          host=esc(name)))
