"""Whether a custom image can be rented as it is, for the admin's card: it needs an OpenSSH
server (sshd); without jupyter-lab it gets SSH only. Known only where a host has the image;
otherwise the card says it is checked at once after the pull."""

from __future__ import annotations

import logging

from bot.i18n import t
from bot.ports import RuntimeFaultError
from bot.services import Services

logger = logging.getLogger(__name__)


async def verdict(services: Services, image: str) -> str:
    """The key of the card line for ``image``."""
    for host in services.config.hosts:
        try:
            found = await services.runtime.image_programs(host.name, image)
        except RuntimeFaultError as fault:
            logger.info("cannot look into %s on %s: %s", image, host.name, fault.message)
            continue
        if found is None:
            continue
        if "sshd" not in found:
            return "card_image_no_sshd"
        return "card_image_ok" if "jupyter-lab" in found else "card_image_no_jupyter"
    return "card_image_unknown"


async def card_line(services: Services, image: str, lang: str) -> str:
    return t(lang, await verdict(services, image))
