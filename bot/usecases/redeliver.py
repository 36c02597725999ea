"""Credentials that never reached the student (Telegram was away when the rental started):
once Telegram answers, a fresh root password is set and sent. The first one was written down
nowhere (only its hash is kept), so sending it again is impossible by design."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.errors import UserError
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import container
from bot.usecases import credentials as cred
from bot.usecases.container_spec import Claim
from bot.usecases.provision import send_credentials
from models import queries, rentals
from models.tables import Rental

logger = logging.getLogger(__name__)


async def deliver_due(services: Services, now: datetime) -> int:
    """New credentials for every running rental still waiting for them; how many went out."""
    sent = 0
    for rental in rentals.credentials_due():
        try:
            with container.hold(rental, now):
                sent += await _deliver(services, rentals.get(rental.id))
        except UserError:
            continue  # another action holds the rental: next tick
        except RuntimeFaultError as fault:
            logger.warning("R%d: new password not set: %s", rental.id, fault.message)
    return sent


async def _deliver(services: Services, rental: Rental) -> int:
    if not rental.credentials_due or rental.host is None:
        return 0
    password = cred.new_password()
    await container.set_password(services, rental, rental.container_id, password)
    rentals.set_credentials_due(rental.id, True, cred.hash_password(password))
    c = Claim(container.host_of(services, rental), tuple(queries.rental_gpus(rental)),
              queries.rental_ports(rental))
    expires = queries.from_db(rental.expires_at)
    assert expires is not None
    if not await send_credentials(services, rental, c, password, None, expires):
        return 0
    rentals.set_credentials_due(rental.id, False)
    queries.audit("credentials_resent", services.clock.now(), rental=rental)
    return 1
