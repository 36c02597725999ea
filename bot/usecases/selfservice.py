"""What a student does to their own rental without asking an admin: restart it, get a new
root password, withdraw a request that still waits.

Every action checks who asks (the owner, or an admin where it makes sense), takes the
rental's lock (so a restart never meets a release or a revival), re-reads the rental under
the lock and leaves an audit entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot import auth
from bot.errors import UserError
from bot.i18n import LANGUAGES, esc, t
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import admins, approve, container, keyring
from bot.usecases import credentials as cred
from bot.usecases.container_spec import Claim
from bot.usecases.provision import send_credentials
from bot.usecases.release import credit_unused_days
from models import locks, notices, queries, rentals, selfservice, views
from models.db import db
from models.states import WITHDRAWABLE, State
from models.tables import Rental, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restarted:
    rental: Rental
    rebuilt: bool  # made anew from its image: only /workspace survived, new password sent


def running(rental: Rental, seen: int | None = None) -> Rental:
    """The rental as it is now, if it runs and nothing happened to it since the confirmation
    showed version ``seen``; UserError otherwise (a stale button, or the second of two taps)."""
    fresh = rentals.get(rental.id)
    if fresh.state != State.ACTIVE.value or fresh.host is None:
        raise UserError("ss_not_running", ref=fresh.ref)
    if seen is not None and seen != selfservice.version(fresh.id):
        raise UserError("ss_done_already", ref=fresh.ref)
    return fresh


def claim_press(services: Services, rental_id: int, user: User, seen: int, what: str,
                now: datetime) -> None:
    """Before a confirmed action starts, in the chat's own turn: the first press of this
    confirmation claims it (a once-only row), later ones get UserError (running already, or
    done: the rental moved on since the confirmation was shown)."""
    rental = auth.rental_for(services.config, user, rental_id, admins_too=True)
    running(rental, seen)
    if locks.held(rental.id) or not notices.claim(f"press:{what}:R{rental.id}:{seen}", now,
                                                  rental):
        raise UserError("ss_in_progress", ref=rental.ref)


def version(services: Services, rental_id: int, user: User) -> int:
    """What a confirmation button carries: the rental's state of affairs when it was shown."""
    rental = auth.rental_for(services.config, user, rental_id, admins_too=True)
    running(rental)
    return selfservice.version(rental.id)


def claim_of(services: Services, rental: Rental) -> Claim:
    return Claim(container.host_of(services, rental), tuple(queries.rental_gpus(rental)),
                 queries.rental_ports(rental))


async def restart(services: Services, rental_id: int, user: User, now: datetime,
                  seen: int | None = None) -> Restarted:
    """``docker restart``; a container that is gone or will not start is made again from its
    image (same GPUs, ports and ``/workspace``) and the student gets a new password."""
    rental = auth.rental_for(services.config, user, rental_id, admins_too=True)
    with container.hold(rental, now):
        rental = running(rental, seen)
        try:
            await container.restart(services, rental)
        except RuntimeFaultError as fault:
            if fault.kind == "unreachable":
                raise UserError("ss_host_down", ref=rental.ref) from None
            logger.warning("R%d: restart failed (%s); rebuilding", rental.id, fault.message)
            await rebuild(services, rental, user, now, await _image(services, rental),
                          "rebuilt", detail=fault.message)
            return Restarted(rentals.get(rental.id), rebuilt=True)
        selfservice.audit(rental, "restarted", now, user)
    return Restarted(rentals.get(rental.id), rebuilt=False)


async def _image(services: Services, rental: Rental) -> str:
    """What to run to make the rental anew from its own image (a custom one by digest)."""
    try:
        return await container.image_for_run(services, container.host_of(services, rental).name,
                                             rental.image_ref)
    except RuntimeFaultError as fault:
        raise UserError("ss_replace_failed", ref=rental.ref,
                        reason=esc(fault.message[:200])) from None


async def rebuild(services: Services, rental: Rental, user: User, now: datetime, image: str,
                  audit: str, detail: str = "", ports: dict[int, int] | None = None,
                  snapshot: bool = False, **fields: object) -> container.Replacement:
    """Replace the rental's container with one from ``image`` (or from a ``snapshot`` of
    itself); the caller holds the lock. Records it and sends the new credentials. UserError
    when it fails (the old container is back then)."""
    # A snapshot's old token file is overwritten before the new container starts.
    password, token = cred.new_password(), cred.new_token()
    try:
        new = await container.replace_with(services, rental, now, image, password, token, ports,
                                           snapshot)
    except RuntimeFaultError as fault:
        logger.error("R%d: replacement from %s failed: %s", rental.id, image, fault.message)
        selfservice.audit(rental, f"{audit}_failed", now, user, fault.message)
        raise UserError("ss_replace_failed", ref=rental.ref,
                        reason=esc(fault.message[:200])) from None
    selfservice.update_running(rental.id, now, audit=audit, actor=user, detail=detail or image,
                               container_id=new.cid, container_name=new.name,
                               password_hash=cred.hash_password(password), **fields)
    fresh = rentals.get(rental.id)
    if await keyring.install_quietly(services, fresh, container.host_of(services, fresh).name,
                                     new.cid):
        password = t(user.language, "cred_keys_only")
    c = Claim(container.host_of(services, fresh), tuple(queries.rental_gpus(fresh)), new.ports)
    expires = queries.from_db(fresh.expires_at) or now
    await send_credentials(services, fresh, c, password, token, expires, new.jupyter)
    return new


async def new_password(services: Services, rental_id: int, user: User, now: datetime,
                       seen: int | None = None) -> Rental:
    """A new random root password (chpasswd on exec stdin), sent like the first one; the old one
    stops working at once."""
    rental = auth.rental_for(services.config, user, rental_id, admins_too=True)
    with container.hold(rental, now):
        rental = running(rental, seen)
        if password_login_off(services, rental):
            raise UserError("ss_password_off", ref=rental.ref)
        password = cred.new_password()
        try:
            await container.set_password(services, rental, rental.container_id, password)
            host = container.host_of(services, rental).name
            jupyter = await container.check_image(services, host, rental.container_id)
        except RuntimeFaultError as fault:
            logger.error("R%d: new password not set: %s", rental.id, fault.message)
            raise UserError("ss_password_failed", ref=rental.ref) from None
        selfservice.update_running(rental.id, now, audit="password_changed", actor=user,
                                   password_hash=cred.hash_password(password))
    expires = queries.from_db(rental.expires_at) or now
    await send_credentials(services, rental, claim_of(services, rental), password, None,
                           expires, jupyter)
    return rentals.get(rental.id)


def password_login_off(services: Services, rental: Rental) -> bool:
    """The option is on and the student has a key: their rentals take keys only."""
    return keyring.keys_only(services, rental)


async def withdraw(services: Services, rental_id: int, user: User, now: datetime) -> Rental:
    """Take back a request that waits for a decision or for GPUs: nothing charged (a charge
    already made is credited back), the admins' cards say so, /request works again."""
    rental = auth.rental_for(services.config, user, rental_id)
    with container.hold(rental, now):
        state = rentals.state_of(rental.id)
        if state not in WITHDRAWABLE:
            raise UserError("ss_not_withdrawable", ref=rental.ref,
                            state=t(user.language, f"state_{state.value}"))
        with db.atomic():
            queries.release_all(rental, now)
            if not rentals.transition(rental.id, State.CANCELLED, now, expect=[state],
                                      audit="withdrawn", actor=user, ended_at=now):
                raise UserError("life_busy", ref=rental.ref)
    rental = rentals.get(rental.id)
    credit_unused_days(services, rental, now)
    await _close_cards(services, rental)
    return rental


async def _close_cards(services: Services, rental: Rental) -> None:
    for card in views.cards(rental):
        lang = admins.language_of(services, card.chat_id)
        text = approve.card_text(services, rental, lang) + "\n\n" + t(lang, "ss_card_withdrawn")
        await services.notifier.edit(card.chat_id, card.message_id, text)


# --- for the chat: slow work beside it, the outcome told afterwards ------------------------

async def restart_and_tell(services: Services, rental_id: int, user: User, seen: int) -> None:
    try:
        done = await restart(services, rental_id, user, services.clock.now(), seen)
    except UserError as error:
        await services.notifier.send(user.telegram_id, error.render(user.language))
        return
    key = "ss_rebuilt" if done.rebuilt else "ss_restarted"
    await services.notifier.send(user.telegram_id, t(user.language, key, ref=done.rental.ref))


async def new_password_and_tell(services: Services, rental_id: int, user: User,
                                seen: int | None) -> None:
    try:
        await new_password(services, rental_id, user, services.clock.now(), seen)
    except UserError as error:
        await services.notifier.send(user.telegram_id, error.render(user.language))


def switch_language(user: User, asked: str) -> str:
    """``/lang`` alone switches between Chinese and English; ``/lang zh|en`` picks one. The
    answer, in the new language."""
    wanted = asked.strip().lower()[:8] or ("en" if user.language == "zh" else "zh")
    if wanted not in LANGUAGES:
        raise UserError("lang_bad")
    selfservice.set_language(user, wanted)
    return t(wanted, "lang_set")
