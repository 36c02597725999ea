"""How one rental looks in /my."""

from __future__ import annotations

from billing.money import format_money
from bot import callbacks as cb
from bot.i18n import esc, t
from bot.ports import Keyboard
from bot.services import Services
from bot.usecases.my_view import details
from bot.usecases.release import published_ports
from models.states import RELEASABLE, WITHDRAWABLE, State
from models.tables import Rental
from models.times import from_db


def rental_card(svc: Services, lang: str, rental: Rental) -> tuple[str, Keyboard]:
    expires = from_db(rental.expires_at)
    until = svc.config.lab_time(expires) if expires else "—"
    ports = published_ports(rental)
    address = rental.host.public_address if rental.host else "—"
    text = t(lang, "my_card", ref=rental.ref, state=t(lang, f"state_{rental.state}"),
             image=esc(rental.image_ref), gpus=rental.gpus,
             plan=t(lang, f"unit_{rental.unit}_n", n=rental.quantity),
             price=format_money(rental.price), host=esc(rental.host.name if rental.host else "—"),
             address=esc(address), ssh=ports.get(22, "—"), jupyter=ports.get(8888, "—"),
             until=until)
    text += "\n" + details(svc, rental, lang, svc.clock.now())
    buttons: Keyboard = []
    if State(rental.state) in (State.ACTIVE, State.EXPIRED):
        buttons.append([cb.EXTEND.button(t(lang, "life_btn_extend"), rental.id)])
    if State(rental.state) is State.ACTIVE:
        buttons.append([cb.RESTART.button(t(lang, "btn_ss_restart"), rental.id),
                        cb.NEW_PASSWORD.button(t(lang, "btn_ss_password"), rental.id)])
        buttons.append([cb.CHANGE_IMAGE.button(t(lang, "btn_ss_image"), rental.id),
                        cb.CHANGE_PORTS.button(t(lang, "btn_ss_ports"), rental.id)])
    if State(rental.state) in WITHDRAWABLE:
        buttons.append([cb.WITHDRAW.button(t(lang, "btn_ss_withdraw"), rental.id)])
    elif State(rental.state) in RELEASABLE:
        buttons.append([cb.RELEASE.button(t(lang, "btn_release"), rental.id)])
    return text, buttons
