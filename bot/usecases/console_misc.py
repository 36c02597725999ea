"""The rest of the admin console: the waitlist (``/queue``, move up, cancel), ``/broadcast``,
``/maintenance on|off [TEXT]`` (kept in the database, so it survives a restart) and
``/audit [rental|user]``."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot import auth
from bot import callbacks as cb
from bot.config import Config
from bot.errors import UserError
from bot.i18n import t
from bot.ports import Keyboard
from bot.services import Services
from bot.textinput import echo
from bot.usecases import console_actions
from bot.usecases.console import parse_id
from bot.usecases.console_users import find
from bot.usecases.users import display_name
from models import admin_reads, queries, queue, rentals, settings
from models.states import LIVE
from models.tables import AuditEvent, User

logger = logging.getLogger(__name__)

BROADCAST_MAX = 3500  # leaves room for the header within Telegram's 4096
BROADCAST_PAUSE = 0.05  # seconds between messages: ~20 a second, under Telegram's 30
AUDIT_LINES = 30


def queue_view(config: Config, admin: User | None) -> tuple[str, Keyboard]:
    admin = auth.require_admin(config, admin)
    lang = admin.language
    line = rentals.queued()
    if not line:
        return t(lang, "ac_queue_none"), []
    lines, rows = [t(lang, "ac_queue_head", n=len(line))], []
    for place, r in enumerate(line, start=1):
        lines.append(f"{place}. <code>{r.ref}</code> · {echo(display_name(r.user), 60)} · "
                     f"{r.gpus} GPU · {r.quantity} {r.unit}")
        row = [cb.CONSOLE_QUEUE_CANCEL.button(t(lang, "ac_btn_cancel_ref", ref=r.ref), r.id)]
        if place > 1:
            row.insert(0, cb.CONSOLE_QUEUE_UP.button(t(lang, "ac_btn_up", ref=r.ref), r.id))
        rows.append(row)
    return "\n".join(lines), rows


def move_up(config: Config, admin: User | None, rental_id: int, now: datetime) -> None:
    admin = auth.require_admin(config, admin)
    if not queue.move_up(rental_id):
        raise UserError("ac_queue_not_moved", ref=f"R{rental_id}")
    rental = rentals.get(rental_id)
    console_actions.audit(rental, "queue_moved_up", now, admin)


async def cancel_queued(services: Services, admin: User | None, rental_id: int,
                        now: datetime) -> None:
    admin = auth.require_admin(services.config, admin)
    rental = rentals.find(rental_id)
    if rental is None:
        raise UserError("ac_no_rental", ref=f"R{rental_id}")
    await console_actions.cancel(services, admin, rental, now)


def parse_broadcast(text: str) -> tuple[bool, str]:
    """``/broadcast [all] TEXT``: (to everyone, the text). UserError when empty or too long."""
    body = text.partition(" ")[2].strip() if text.startswith("/") else text.strip()
    everyone = body.split(maxsplit=1)[:1] == ["all"]
    if everyone:
        body = body[3:].strip()
    if not body or len(body) > BROADCAST_MAX:
        raise UserError("ac_broadcast_usage", limit=BROADCAST_MAX)
    return everyone, body


async def broadcast(services: Services, admin: User | None, text: str,
                    now: datetime) -> str:
    """To every student with a live rental (or everyone with ``all``), paced under Telegram's
    limits; returns how many got it and who could not be reached."""
    admin = auth.require_admin(services.config, admin)
    everyone, body = parse_broadcast(text)
    people = admin_reads.students() if everyone else admin_reads.students_with_state(LIVE)
    missed: list[str] = []
    for user in people:
        said = t(user.language, "ac_broadcast_message", text=echo(body, BROADCAST_MAX))
        if not await services.notifier.send(user.telegram_id, said):
            missed.append(echo(display_name(user), 60))
        await asyncio.sleep(BROADCAST_PAUSE)
    console_actions.audit(None, "broadcast", now, admin,
                          f"{len(people) - len(missed)}/{len(people)}: {body}")
    lang = admin.language
    answer = t(lang, "ac_broadcast_done", sent=len(people) - len(missed), total=len(people))
    if missed:
        answer += "\n" + t(lang, "ac_broadcast_missed", who=", ".join(missed[:30]))
    return answer


def maintenance(config: Config, admin: User | None, words: list[str], now: datetime) -> str:
    """``/maintenance`` (status), ``on [TEXT]`` or ``off``."""
    admin = auth.require_admin(config, admin)
    lang = admin.language
    switch = words[0].lower() if words else ""
    if switch == "on":
        text = " ".join(words[1:]).strip()[:BROADCAST_MAX]
        settings.set_maintenance(text, now, admin)
    elif switch == "off":
        settings.set_maintenance(None, now, admin)
    elif switch:
        raise UserError("ac_maintenance_usage")
    said = settings.maintenance()
    if said is None:
        return t(lang, "ac_maintenance_off")
    return t(lang, "ac_maintenance_on", text=echo(said or "—", 500))


def audit(config: Config, admin: User | None, words: list[str]) -> str:
    """``/audit`` (newest), ``/audit R12`` (a rental) or ``/audit @name|ID`` (a student)."""
    admin = auth.require_admin(config, admin)
    if not words:
        found = admin_reads.audit_newest(AUDIT_LINES)
    elif words[0].upper().startswith("R") and words[0][1:].isdigit():
        found = admin_reads.audit_of_rental(parse_id(words), AUDIT_LINES)
    else:
        found = admin_reads.audit_of_user(find(words), AUDIT_LINES)
    lines = [t(admin.language, "ac_audit_head", n=len(found))]
    lines += [_audit_line(config, e) for e in found]
    return "\n".join(lines)


def _audit_line(config: Config, e: AuditEvent) -> str:
    when = queries.from_db(e.at)
    actor, rental = e.__data__.get("actor"), e.__data__.get("rental")  # ids, no extra query
    who = echo(display_name(e.actor), 40) if actor is not None and e.actor else "bot"
    ref = f"R{rental} " if rental is not None else ""
    detail = f" · {echo(e.detail, 120)}" if e.detail else ""
    return (f"{config.lab_time(when) if when else '—'} {ref}<b>{echo(e.kind, 32)}</b> · "
            f"{who}{detail}")
