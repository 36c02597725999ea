"""A student's SSH keys: add one (sent as text or as a .pub file), list them, remove one.

Keys are remembered per student and go into every running rental of theirs at once, and into
every later one when it starts (:mod:`bot.usecases.keyring`). With ``keys_only_when_keyed`` a
key turns password login off; removing the last key turns it back on with a new password, so
nobody is locked out.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import Keyboard, RuntimeFaultError
from bot.services import Services
from bot.usecases import container, keyring, selfservice
from models import selfservice as store
from models.tables import User

logger = logging.getLogger(__name__)

MAX_KEYS = 20


async def add(services: Services, user: User, text: str, now: datetime) -> str:
    """Remember the key and put it into the student's running rentals; the reply to show."""
    key = keyring.parse(text)
    if store.key_count(user) >= MAX_KEYS:
        raise UserError("key_many", limit=MAX_KEYS)
    if store.add_key(user, key.line, key.fingerprint, key.kind, key.bits, now) is None:
        raise UserError("key_known", fingerprint=key.fingerprint)
    refs = []
    for rental in store.running_of(user):
        try:
            with container.hold(rental, now):
                fresh = selfservice.running(rental)
                host = container.host_of(services, fresh).name
                await keyring.install(services, fresh, host, fresh.container_id)
        except (UserError, RuntimeFaultError) as exc:
            logger.warning("R%d: key not installed now: %s", rental.id, exc)
            continue
        store.audit(rental, "key_added", now, user, key.fingerprint)
        refs.append(rental.ref)
    lang = user.language
    where = ", ".join(refs) if refs else t(lang, "key_no_rentals")
    off = t(lang, "key_password_off") if services.config.rental.keys_only_when_keyed else ""
    return t(lang, "key_added", kind=key.kind, bits=key.bits, fingerprint=key.fingerprint,
             where=where, off=off)


def listing(user: User) -> tuple[str, Keyboard]:
    lang = user.language
    keys = store.keys_of(user)
    if not keys:
        return t(lang, "key_none"), []
    lines = [t(lang, "key_list_head")]
    buttons: Keyboard = []
    for n, key in enumerate(keys, 1):
        lines.append(f"{n}. {esc(key.kind)} ({key.bits}) <code>{esc(key.fingerprint)}</code>")
        buttons.append([cb.KEY_REMOVE.button(t(lang, "key_btn_remove", n=n), key.id)])
    return "\n".join(lines), buttons


async def remove(services: Services, user: User, key_id: int, now: datetime) -> str:
    """Forget the key and take it out of the running rentals; with keys only and no key left,
    each rental gets a new password (sent like the first)."""
    key = store.key_of(user, key_id)
    if key is None or not store.forget_key(key):
        raise UserError("key_gone")
    for rental in store.running_of(user):
        try:
            with container.hold(rental, now):
                host = container.host_of(services, rental).name
                await services.runtime.remove_ssh_key(host, rental.container_id, key.key)
        except (UserError, RuntimeFaultError) as exc:
            logger.warning("R%d: key not removed now: %s", rental.id, exc)
            continue
        store.audit(rental, "key_removed", now, user, key.fingerprint)
        if services.config.rental.keys_only_when_keyed and store.key_count(user) == 0:
            await selfservice.new_password_and_tell(services, rental.id, user, None)
    return t(user.language, "key_removed", fingerprint=key.fingerprint)
