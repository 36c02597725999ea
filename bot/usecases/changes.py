"""Paid changes to a running rental: another image, or other extra ports.

The story: the student picks (a catalogue image, a typed reference, a typed port list) and
sees the fee → sends it to the admins → an admin approves on a card like the request's →
the image is pulled first, then a new container replaces the old one on the same GPUs with
``/workspace`` kept and a new password (the old container is put back if the new one fails)
→ only then is the fee charged. Every step is a conditional move of the change's row, so a
double tap or two admins at once do the work once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from billing.money import format_money
from bot import auth
from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import Keyboard, RuntimeFaultError
from bot.services import Services
from bot.usecases import admins, container, selfservice
from bot.usecases.change_ports import apply_ports, check_new_ports
from bot.usecases.payments import charge_and_request_payment
from bot.usecases.request import check_custom_image
from bot.usecases.users import display_name
from models import rentals
from models import selfservice as store
from models.tables import ChangeRequest, Rental, User

logger = logging.getLogger(__name__)


def changeable(services: Services, rental_id: int, user: User) -> Rental:
    """The student's running rental, with no other change under way."""
    rental = selfservice.running(auth.rental_for(services.config, user, rental_id))
    if store.open_change(rental) is not None:
        raise UserError("chg_open", ref=rental.ref)
    return rental


def fee(services: Services, kind: str) -> int:
    fees = services.config.fees
    return fees.image_change if kind == "image" else fees.port_change


def image_menu(services: Services, rental_id: int, user: User) -> tuple[str, Keyboard]:
    rental = changeable(services, rental_id, user)
    lang = user.language
    buttons = [[cb.CHANGE_IMAGE_PICK.button(image.name, rental.id, image.key)]
               for image in services.config.images if image.ref != rental.image_ref]
    buttons.append([cb.CHANGE_IMAGE_CUSTOM.button(t(lang, "chg_btn_custom"), rental.id)])
    return t(lang, "chg_image_menu", ref=rental.ref, image=esc(rental.image_ref),
             fee=format_money(fee(services, "image"))), buttons


def propose_image(services: Services, rental_id: int, user: User, now: datetime,
                  key: str = "", typed: str = "") -> tuple[str, Keyboard]:
    """A draft change to a catalogue image (``key``) or a typed reference."""
    rental = changeable(services, rental_id, user)
    image = services.config.image(key) if key else None
    if key and image is None:
        raise UserError("button_bad")
    ref = image.ref if image else check_custom_image(services.config, typed)
    if ref == rental.image_ref:
        raise UserError("chg_same_image", ref=rental.ref)
    change = store.new_change(rental, user, "image", fee(services, "image"), now,
                              image_key=key or "custom", image_ref=ref,
                              custom_image=image is None)
    return _proposal(user, rental, change, t(user.language, "chg_what_image", image=esc(ref)))


def propose_ports(services: Services, rental_id: int, user: User, now: datetime,
                  typed: str) -> tuple[str, Keyboard]:
    rental = changeable(services, rental_id, user)
    ports = check_new_ports(services.config, rental, typed)
    change = store.new_change(rental, user, "ports", fee(services, "ports"), now,
                              extra_ports=",".join(map(str, ports)))
    shown = ", ".join(map(str, ports)) or t(user.language, "chg_no_ports")
    return _proposal(user, rental, change, t(user.language, "chg_what_ports", ports=shown))


def _proposal(user: User, rental: Rental, change: ChangeRequest,
              what: str) -> tuple[str, Keyboard]:
    lang = user.language
    text = t(lang, "chg_confirm", ref=rental.ref, what=what, fee=format_money(change.fee))
    return text, [[cb.CHANGE_SEND.button(t(lang, "chg_btn_send"), rental.id, change.id)]]


async def send(services: Services, rental_id: int, change_id: int, user: User,
               now: datetime) -> str:
    """The student's yes: the draft goes to every admin as a card (once, however many taps)."""
    rental = auth.rental_for(services.config, user, rental_id)
    change = store.change(change_id)
    if change is None or change.rental_id != rental.id:  # type: ignore[attr-defined]
        raise UserError("button_bad")
    if not store.move_change(change.id, "draft", "pending", now):
        raise UserError("chg_sent_already", ref=rental.ref)
    store.audit(rental, f"change_{change.kind}_asked", now, user, _describe(change))
    for chat_id, lang in admins.targets(services):
        buttons = [[cb.CHANGE_APPROVE.button(t(lang, "btn_approve"), change.id),
                    cb.CHANGE_REJECT.button(t(lang, "btn_reject"), change.id)]]
        message_id = await services.notifier.send(chat_id, _card(services, change, lang),
                                                  buttons)
        if message_id is not None:
            store.remember_card(change, chat_id, message_id)
    return t(user.language, "chg_sent", ref=rental.ref)


def _describe(change: ChangeRequest) -> str:
    return change.image_ref if change.kind == "image" else f"ports [{change.extra_ports}]"


def _card(services: Services, change: ChangeRequest, lang: str) -> str:
    rental = change.rental
    what = (t(lang, "chg_what_image", image=esc(change.image_ref)) if change.kind == "image"
            else t(lang, "chg_what_ports", ports=change.extra_ports or "—"))
    custom = t(lang, "chg_card_custom") if change.custom_image else ""
    return t(lang, "chg_card", ref=rental.ref, who=esc(display_name(change.user)), what=what,
             fee=format_money(change.fee), now=esc(rental.image_ref), custom=custom)


async def decide(services: Services, admin: User, change_id: int, yes: bool,
                 now: datetime) -> str:
    """An admin's answer on a change card; the second admin to press is told who was first."""
    auth.require_admin(services.config, admin)
    change = store.change(change_id)
    if change is None:
        raise UserError("button_bad")
    target = "approved" if yes else "rejected"
    if not store.move_change(change.id, "pending", target, now, by=admin):
        raise UserError("chg_decided_already", ref=change.rental.ref)
    change = store.change(change_id)
    assert change is not None
    store.audit(change.rental, f"change_{target}", now, admin, _describe(change))
    await _close_cards(services, change, target)
    student = change.user
    if not yes:
        await services.notifier.send(student.telegram_id, t(
            student.language, "chg_rejected", ref=change.rental.ref))
    else:
        await services.notifier.send(student.telegram_id, t(
            student.language, "chg_approved", ref=change.rental.ref))
        services.spawn(carry_out(services, change.id), name=f"change-{change.id}")
    return t(admin.language, f"chg_{target}_admin", ref=change.rental.ref)


async def _close_cards(services: Services, change: ChangeRequest, outcome: str) -> None:
    who = esc(display_name(change.decided_by)) if change.decided_by else "?"
    for card in store.change_cards(change):
        lang = admins.language_of(services, card.chat_id)
        footer = t(lang, f"chg_card_{outcome}", who=who)
        await services.notifier.edit(card.chat_id, card.message_id,
                                     _card(services, change, lang) + "\n\n" + footer)


async def carry_out(services: Services, change_id: int) -> bool:
    """Pull, replace, charge; or tell why not (nothing charged). True when it was done."""
    change = store.change(change_id)
    assert change is not None and change.state == "approved"
    rental, student, now = change.rental, change.user, services.clock.now()
    try:
        with container.hold(rental, now):
            rental = selfservice.running(rental)
            if change.kind == "image":
                image = await _pull(services, rental, change.image_ref)
                await selfservice.rebuild(
                    services, rental, student, now, image, "image_changed",
                    image_ref=change.image_ref, image_key=change.image_key[:32],
                    custom_image=change.custom_image)
            else:
                await apply_ports(services, rental, student, now, change.extra_ports)
    except UserError as error:
        store.move_change(change.id, "approved", "failed", now, detail=error.key)
        await services.notifier.send(student.telegram_id, error.render(student.language))
        await admins.tell(services, "chg_failed_admin", ref=rental.ref)
        return False
    store.move_change(change.id, "approved", "done", now)
    reason = t(student.language, f"chg_charge_{change.kind}", ref=rental.ref)
    await charge_and_request_payment(services, student, rentals.get(rental.id), change.fee,
                                     reason, now)
    await services.notifier.send(student.telegram_id, t(
        student.language, f"chg_done_{change.kind}", ref=rental.ref, fee=format_money(change.fee)))
    return True


async def _pull(services: Services, rental: Rental, ref: str) -> str:
    """The new image on the host before anything stops (a pull can take many minutes); what
    to run (a student's own reference: the digest just pulled)."""
    try:
        return await container.image_for_run(services, container.host_of(services, rental).name,
                                             ref)
    except RuntimeFaultError as fault:
        raise UserError("ss_replace_failed", ref=rental.ref, reason=esc(fault.message[:200])
                        ) from None


def image_prompt(services: Services, rental_id: int, user: User) -> str:
    """What the student is asked before typing an image reference."""
    rental = changeable(services, rental_id, user)
    return t(user.language, "chg_image_ask", ref=rental.ref,
             registries=esc(", ".join(services.config.rental.registry_allow)))


def ports_prompt(services: Services, rental_id: int, user: User) -> str:
    rental = changeable(services, rental_id, user)
    current = rental.extra_ports.replace(",", ", ") or t(user.language, "chg_no_ports")
    return t(user.language, "chg_ports_ask", ref=rental.ref, current=current,
             limit=services.config.rental.max_extra_ports)
