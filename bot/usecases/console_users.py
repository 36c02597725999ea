"""The admin console's view of students: ``/users`` a page at a time, ``/user ID|@name`` with
their rentals, balance and payments, and what an admin does to one (block or unblock with a
reason, refund, adjust the balance, send a message). The typed part (reason, amount, text)
comes from a conversation in the handler; these functions check and carry it out."""

from __future__ import annotations

import logging
from datetime import datetime

from billing import ledger
from billing.money import MoneyError, format_money, parse_money
from bot import auth
from bot import callbacks as cb
from bot.config import Config
from bot.errors import UserError
from bot.i18n import t
from bot.ports import Keyboard
from bot.services import Services
from bot.textinput import echo
from bot.usecases.users import display_name
from models import admin_reads, rentals, settings
from models.states import LIVE
from models.tables import User

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
RECENT = 6  # rentals and payments shown on a card
MAX_TEXT = 1000  # a message to a student, or a reason


def users_page(config: Config, admin: User | None, page: int) -> tuple[str, Keyboard]:
    admin = auth.require_admin(config, admin)
    lang = admin.language
    found, total = admin_reads.users_page(page - 1, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    lines = [t(lang, "ac_users_head", total=total, page=page, pages=pages)]
    lines += [_line(u, lang) for u in found]
    opens = [cb.CONSOLE_USER.button(f"#{u.id}", u.id) for u in found]
    rows: Keyboard = [opens[i:i + 5] for i in range(0, len(opens), 5)]
    turn = []
    if page > 1:
        turn.append(cb.CONSOLE_USERS.button("◀", page - 1))
    if page < pages:
        turn.append(cb.CONSOLE_USERS.button("▶", page + 1))
    return "\n".join(lines), rows + ([turn] if turn else [])


def _line(user: User, lang: str) -> str:
    mark = " " + t(lang, "ac_user_blocked_mark") if user.blocked else ""
    return (f"#{user.id} {echo(display_name(user), 60)} · <code>{user.telegram_id}</code> · "
            f"{format_money(ledger.balance(user))}{mark}")


def find(words: list[str]) -> User:
    """``/user 12`` (our id), ``/user 123456789`` (a Telegram id) or ``/user @name``."""
    if len(words) != 1:
        raise UserError("ac_user_usage")
    word = words[0]
    found = None
    if word.startswith("@") and 1 < len(word) <= 33:
        found = admin_reads.user_by_name(word[1:])
    elif word.isascii() and word.isdigit() and len(word) <= 15:
        found = admin_reads.user_by_id(int(word)) or admin_reads.user_by_telegram(int(word))
    if found is None:
        raise UserError("ac_no_user", who=echo(word, 40))
    return found


def card(config: Config, admin: User | None, user: User) -> tuple[str, Keyboard]:
    admin = auth.require_admin(config, admin)
    lang = admin.language
    st = ledger.statement(user)
    lines = [t(lang, "ac_user_card", uid=user.id, who=echo(display_name(user), 80),
               tid=user.telegram_id, role=user.role, balance=format_money(st.balance),
               open=len(st.open))]
    if user.blocked:
        lines.append(t(lang, "ac_user_blocked", reason=echo(settings.block_reason(user))))
    for r in admin_reads.rentals_of(user, RECENT):
        lines.append(f"<code>{r.ref}</code> {r.state} · {r.gpus} GPU · "
                     f"{format_money(r.price)}")
    payments = [e for e in st.entries if e.kind != ledger.CHARGE][-RECENT:]
    lines += [f"{e.created_at.date()} {e.kind} {format_money(e.signed)} {echo(e.reason, 60)}"
              for e in payments]
    return "\n".join(lines), buttons(user, lang)


def buttons(user: User, lang: str) -> Keyboard:
    block = "unblock" if user.blocked else "block"
    return [[cb.CONSOLE_USER_ACT.button(t(lang, f"ac_btn_{block}"), user.id, block),
             cb.CONSOLE_USER_ACT.button(t(lang, "ac_btn_msg"), user.id, "msg")],
            [cb.CONSOLE_USER_ACT.button(t(lang, "ac_btn_refund"), user.id, "refund"),
             cb.CONSOLE_USER_ACT.button(t(lang, "ac_btn_adjust"), user.id, "adjust")]]


def target(config: Config, admin: User | None, user_id: int) -> User:
    auth.require_admin(config, admin)
    found = admin_reads.user_by_id(user_id)
    if found is None:
        raise UserError("ac_no_user", who=f"#{user_id}")
    return found


def prompt(admin: User, user: User, act: str) -> str:
    return t(admin.language, f"ac_prompt_{act}", who=echo(display_name(user), 80))


async def apply(services: Services, admin: User | None, user_id: int, act: str, text: str,
                now: datetime) -> str:
    """Carry out ``act`` on the student with what the admin typed; returns the admin's answer.
    UserError for input to type again (``ac_bad_*``) or a refusal."""
    user = target(services.config, admin, user_id)
    assert admin is not None
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise UserError("ac_bad_text", limit=MAX_TEXT)
    if act in ("block", "unblock"):
        return await _block(services, admin, user, act == "block", text, now)
    if act == "msg":
        await services.notifier.send(user.telegram_id, t(user.language, "ac_told_message",
                                                         text=echo(text, MAX_TEXT)))
        return t(admin.language, "ac_done_msg", who=echo(display_name(user), 80))
    return await _money(services, admin, user, act, text, now)


async def _block(services: Services, admin: User, user: User, block: bool, reason: str,
                 now: datetime) -> str:
    if block and auth.is_admin(services.config, user.telegram_id):
        raise UserError("ac_block_admin")
    if not settings.set_blocked(user, block, reason, now, admin):
        raise UserError("ac_block_same")
    key = "ac_told_block" if block else "ac_told_unblock"
    await services.notifier.send(user.telegram_id, t(user.language, key,
                                                     reason=echo(reason, MAX_TEXT)))
    answer = t(admin.language, key.replace("told", "done"), who=echo(display_name(user), 80))
    live = [r.ref for r in rentals.of_user(user, LIVE)]
    if block and live:  # left to the admin: stop them now, or let them run to their end
        answer += "\n" + t(admin.language, "ac_block_live", refs=", ".join(live))
    return answer


async def _money(services: Services, admin: User, user: User, act: str, text: str,
                 now: datetime) -> str:
    """``refund``: "AMOUNT reason"; ``adjust``: "+AMOUNT reason" or "-AMOUNT reason"."""
    amount_text, _, reason = text.partition(" ")
    sign = -1 if act == "adjust" and amount_text.startswith("-") else 1
    try:
        cents = parse_money(amount_text.lstrip("+-") if act == "adjust" else amount_text)
        if act == "refund":
            entry = ledger.refund(user, cents, now, admin, reason=reason)
        else:
            entry = ledger.adjust(user, sign * cents, reason, now, admin)
    except (MoneyError, ledger.LedgerError) as error:
        raise UserError("ac_bad_amount", why=echo(str(error), 200), act=act) from None
    balance = format_money(ledger.balance(user))
    shown = format_money(sign * entry.amount)
    await services.notifier.send(user.telegram_id, t(
        user.language, f"ac_told_{act}", amount=shown, reason=echo(reason, 200),
        balance=balance))
    return t(admin.language, f"ac_done_{act}", who=echo(display_name(user), 80), amount=shown,
             balance=balance)
