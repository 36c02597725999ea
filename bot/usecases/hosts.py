"""Hosts and their GPUs: recorded at start-up and re-checked by the tick."""

from __future__ import annotations

import logging

from bot.ports import RuntimeFaultError
from bot.services import Services
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
    """Ping hosts marked unreachable; the ones that answer take rentals again."""
    back: list[str] = []
    for host in hosts.unreachable():
        try:
            await services.runtime.ping(host.name)
            gpus = await services.runtime.gpus(host.name)
        except RuntimeFaultError:
            continue
        queries.ensure_hosts([(host.name, host.public_address, gpus)])
        hosts.set_reachable(host.name, True)
        back.append(host.name)
        logger.info("host %s is reachable again", host.name)
    return back
