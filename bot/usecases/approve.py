"""The admin's decision: approval cards to every admin, one decision wins, all cards updated."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from billing import ledger
from billing.money import format_money
from bot import auth
from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import esc, t
from bot.placement import best_fit
from bot.ports import Keyboard
from bot.services import Services
from bot.usecases import admins, inventory, rentability
from bot.usecases.users import display_name
from models import queries, rentals, views
from models.db import db
from models.states import State
from models.tables import LedgerEntry, Rental, User

logger = logging.getLogger(__name__)

REJECT_REASONS = cb.REJECT_REASONS


@dataclass(frozen=True)
class Decision:
    rental: Rental
    approved: bool
    charge: LedgerEntry | None = None  # written with the approval, in one transaction


def where_text(rental: Rental, lang: str) -> str:
    spot = best_fit(rental.gpus, inventory.free_gpus())
    if spot is not None:
        return t(lang, "card_where", host=spot.host, gpus=",".join(spot.gpu_ids))
    return t(lang, "card_wait", position=inventory.queue_position(rental))


def card_text(services: Services, rental: Rental, lang: str) -> str:
    user = rental.user
    past = rentals.others_of_user(rental)
    text = t(lang, "card", ref=rental.ref, who=esc(display_name(user)), tid=user.telegram_id,
             past=past, image=esc(rental.image_ref), gpus=rental.gpus,
             plan=t(lang, f"unit_{rental.unit}_n", n=rental.quantity),
             price=format_money(rental.price), purpose=esc(rental.purpose),
             ports=rental.extra_ports or "—")
    if rental.custom_image:
        text += "\n" + t(lang, "card_custom")
    return text


def card_buttons(rental: Rental, lang: str) -> Keyboard:
    return [[cb.APPROVE.button(t(lang, "btn_approve"), rental.id),
             cb.REJECT.button(t(lang, "btn_reject"), rental.id)]]


def reason_buttons(rental: Rental, lang: str) -> Keyboard:
    rows = [[cb.REJECT_REASON.button(t(lang, f"reject_{key}"), rental.id, key)]
            for key in REJECT_REASONS]
    rows.append([cb.BACK_TO_CARD.button(t(lang, "btn_back"), rental.id)])
    return rows


def quick_reason(key: str) -> str:
    """What a reason from the buttons is stored as: its catalogue key, so the student and each
    admin read it in their own language (a typed reason is kept as typed)."""
    return f"reject_{key}"


def reason_text(rental: Rental, lang: str) -> str:
    """The rejection's reason for a reader of ``lang``, safe for HTML."""
    stored = rental.reject_reason or ""
    if stored in {quick_reason(key) for key in REJECT_REASONS if key != "other"}:
        return t(lang, stored)
    return esc(stored or "—")


async def send_cards(services: Services, rental: Rental) -> None:
    verdict = await rentability.verdict(services, rental.image_ref) if rental.custom_image else ""
    for chat_id, lang in admins.targets(services):
        text = card_text(services, rental, lang) + "\n" + where_text(rental, lang)
        text += "\n" + t(lang, verdict) if verdict else ""
        message_id = await services.notifier.send(chat_id, text, card_buttons(rental, lang))
        if message_id is not None:
            views.remember_message(rental, "card", chat_id, message_id)


def require_admin(services: Services, telegram_id: int) -> User:
    """The admin pressing or typing, by the one rule (:mod:`bot.auth`)."""
    return auth.require_admin(services.config, queries.user_by_telegram(telegram_id))


def decide(services: Services, rental_id: int, admin_tid: int, approve: bool,
           reason: str, now: datetime) -> Decision:
    """Record the decision if nobody made one yet; refuse with who decided otherwise."""
    admin = require_admin(services, admin_tid)
    rental = rentals.find(rental_id)
    if rental is None:
        raise UserError("card_unknown")
    target = State.APPROVED if approve else State.REJECTED
    with db.atomic():  # the charge stands or falls with the decision: no release between
        moved = rentals.transition(rental.id, target, now, expect=[State.PENDING], actor=admin,
                                   detail=reason, decided_at=now, decided_by=admin.id,
                                   reject_reason=reason)
        entry = _charge(rental, now) if moved and approve else None
    if not moved:
        raise already_decided(services, rentals.get(rental_id), admin.language, now)
    return Decision(rental=rentals.get(rental_id), approved=approve, charge=entry)


def _charge(rental: Rental, now: datetime) -> LedgerEntry:
    reason = t(rental.user.language, "charge_rental", ref=rental.ref)
    return ledger.charge(rental.user, rental.price, reason, now, rental=rental)


def already_decided(services: Services, rental: Rental, lang: str, now: datetime) -> UserError:
    if rental.decided_by is None:
        return UserError("card_closed", state=rental.state)
    when = services.config.lab_time(queries.from_db(rental.decided_at) or now)
    return UserError("card_already", who=esc(display_name(rental.decided_by)), when=when)


async def close_cards(services: Services, rental: Rental) -> None:
    """Show every admin who decided and when; no buttons remain."""
    who = esc(display_name(rental.decided_by)) if rental.decided_by else "?"
    decided = queries.from_db(rental.decided_at)
    when = services.config.lab_time(decided) if decided else ""
    for card in views.cards(rental):
        lang = admins.language_of(services, card.chat_id)
        key = "card_approved" if rental.state != State.REJECTED.value else "card_rejected"
        footer = t(lang, key, who=who, when=when, reason=reason_text(rental, lang))
        await services.notifier.edit(card.chat_id, card.message_id,
                                     card_text(services, rental, lang) + "\n\n" + footer)


def open_card(rental_id: int, lang: str, services: Services) -> Rental:
    """The rental behind a card, if it still waits for a decision."""
    rental = rentals.find(rental_id)
    if rental is None:
        raise UserError("card_unknown")
    if rental.state != State.PENDING.value:
        raise already_decided(services, rental, lang, services.clock.now())
    return rental
