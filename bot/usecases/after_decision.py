"""What follows an admin's decision: cards closed, student told, payment asked for (the charge
itself was written with the decision), work started."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import t
from bot.services import Services
from bot.usecases import approve
from bot.usecases.payments import request_payment
from bot.usecases.provision import provision


async def after_decision(services: Services, decision: approve.Decision, now: datetime) -> None:
    rental = decision.rental
    await approve.close_cards(services, rental)
    user = rental.user
    if not decision.approved:
        reason = approve.reason_text(rental, user.language)
        await services.notifier.send(user.telegram_id,
                                     t(user.language, "req_rejected", ref=rental.ref,
                                       reason=reason))
        return
    if services.config.billing.collect == "before":
        # Pay first: the payment QR goes out now, provisioning starts once it is paid.
        await services.notifier.send(user.telegram_id, t(user.language, "req_approved_pay",
                                                         ref=rental.ref))
        await _ask_payment(services, decision)
        return
    await services.notifier.send(user.telegram_id, t(user.language, "req_approved",
                                                     ref=rental.ref))
    # Start the container work first: the payment messages go out while Docker works. The
    # charge was written with the decision, so a rental that fails is always credited against
    # a charge that exists.
    services.spawn(provision(services, rental.id), name=f"provision-R{rental.id}")
    await _ask_payment(services, decision)


async def _ask_payment(services: Services, decision: approve.Decision) -> None:
    if decision.charge is not None:
        rental = decision.rental
        await request_payment(services, rental.user, rental, decision.charge)
