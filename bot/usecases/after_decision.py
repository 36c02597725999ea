"""What follows an admin's decision: cards closed, student told, money charged, work started."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import esc, t
from bot.services import Services
from bot.usecases import approve
from bot.usecases.payments import charge_and_request_payment
from bot.usecases.provision import provision
from models.tables import Rental


async def after_decision(services: Services, decision: approve.Decision, now: datetime) -> None:
    rental = decision.rental
    await approve.close_cards(services, rental)
    user = rental.user
    if not decision.approved:
        reason = esc(rental.reject_reason or "—")
        await services.notifier.send(user.telegram_id,
                                     t(user.language, "req_rejected", ref=rental.ref,
                                       reason=reason))
        return
    if services.config.billing.collect == "before":
        # Pay first: the payment QR goes out now, provisioning starts once it is paid.
        await services.notifier.send(user.telegram_id, t(user.language, "req_approved_pay",
                                                         ref=rental.ref))
        await charge(services, rental, now)
        return
    await services.notifier.send(user.telegram_id, t(user.language, "req_approved",
                                                     ref=rental.ref))
    # Start the container work first: the charge's messages go out while Docker works. The
    # task only runs at our next await, and the charge is written before that, so a rental
    # that fails is always credited against a charge that exists.
    services.spawn(provision(services, rental.id), name=f"provision-R{rental.id}")
    await charge(services, rental, now)


async def charge(services: Services, rental: Rental, now: datetime) -> None:
    reason = t(rental.user.language, "charge_rental", ref=rental.ref)
    await charge_and_request_payment(services, rental.user, rental, rental.price, reason, now)
