"""What follows an admin's decision: cards closed, student told, money charged, work started."""

from __future__ import annotations

from datetime import datetime

from billing import ledger
from bot.i18n import esc, t
from bot.services import Services
from bot.usecases import approve
from bot.usecases.provision import provision
from models.states import State
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


def payable(services: Services, rental: Rental) -> bool:
    """An approved rental may be provisioned: paid, or billed after provisioning."""
    if services.config.billing.collect != "before":
        return True
    return ledger.rental_balance(rental) >= 0


def start_if_payable(services: Services, rental: Rental) -> bool:
    """Start provisioning an approved rental that was waiting for its payment."""
    current = Rental.get_by_id(rental.id)
    if current.state != State.APPROVED.value or not payable(services, current):
        return False
    services.spawn(provision(services, rental.id), name=f"provision-R{rental.id}")
    return True


async def charge(services: Services, rental: Rental, now: datetime) -> None:
    from bot.usecases.billing import charge_and_request_payment

    reason = t(rental.user.language, "charge_rental", ref=rental.ref)
    await charge_and_request_payment(services, rental.user, rental, rental.price, reason, now)
