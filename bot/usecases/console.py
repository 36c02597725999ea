"""The admin console's view of rentals: ``/rentals [state]`` a page at a time, ``/rental ID``
in detail with the buttons an admin may press on it (each asks to confirm first).

Every entry point checks the asker against the configured admin ids (``auth.require_admin``),
whatever chat the command came from."""

from __future__ import annotations

from billing import ledger
from billing.money import format_money
from bot import auth
from bot import callbacks as cb
from bot.config import Config
from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import Button, Keyboard
from bot.services import Services
from bot.usecases import schedule as sch
from bot.usecases.users import display_name
from models import admin_reads, queries, rentals, selfservice
from models.states import State
from models.tables import Rental, User

PAGE_SIZE = 8
FILTERS: dict[str, tuple[State, ...]] = {
    "active": (State.ACTIVE, State.PROVISIONING),
    "queued": (State.QUEUED, State.APPROVED),
    "pending": (State.PENDING,),
    "expired": (State.EXPIRED,),
    "failed": (State.FAILED,),
    "all": tuple(State),
}
# What an admin may do to a rental in each state (the card's buttons, in this order).
ACTIONS: dict[State, tuple[str, ...]] = {s: () for s in State} | {
    State.ACTIVE: ("stop", "restart", "x1d", "x7d", "endr", "end"),
    State.EXPIRED: ("start", "x1d", "x7d", "rm"),
    State.QUEUED: ("cancel",),
    State.APPROVED: ("cancel",),
}


def actions_for(state: State) -> tuple[str, ...]:
    return ACTIONS[state]


def parse_filter(words: list[str]) -> str:
    """The state word of ``/rentals [state]`` (default ``active``); UserError for others."""
    which = words[0].lower() if words else "active"
    if which not in FILTERS:
        raise UserError("ac_rentals_usage")
    return which


def rentals_page(config: Config, admin: User | None, which: str, page: int) -> tuple[str,
                                                                                        Keyboard]:
    """One page of ``/rentals``: a line per rental and buttons to open one or turn the page."""
    admin = auth.require_admin(config, admin)
    lang = admin.language
    found, total = admin_reads.rentals_page(FILTERS[which], page - 1, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    lines = [t(lang, "ac_rentals_head", which=which, total=total, page=page, pages=pages)]
    lines += [_line(config, r) for r in found] or [t(lang, "ac_rentals_none")]
    opens = [cb.CONSOLE_RENTAL.button(r.ref, r.id) for r in found]
    rows: Keyboard = [opens[i:i + 4] for i in range(0, len(opens), 4)]
    turn = []
    if page > 1:
        turn.append(cb.CONSOLE_RENTALS.button("◀", which, page - 1))
    if page < pages:
        turn.append(cb.CONSOLE_RENTALS.button("▶", which, page + 1))
    return "\n".join(lines), rows + ([turn] if turn else [])


def _line(config: Config, rental: Rental) -> str:
    ends = queries.from_db(rental.expires_at)
    when = config.lab_time(ends) if ends else "—"
    return (f"<code>{rental.ref}</code> {rental.state} · {esc(display_name(rental.user))} · "
            f"{rental.gpus} GPU · {when}")


def parse_id(words: list[str]) -> int:
    """``R12`` or ``12`` as the one argument; UserError with the usage otherwise."""
    text = words[0].upper().removeprefix("R") if len(words) == 1 else ""
    # ASCII digits only: "²".isdigit() is true, and int("²") raises
    if not (text.isascii() and text.isdigit()) or not 0 < len(text) <= 12 or text.startswith("0"):
        raise UserError("ac_rental_usage")
    return int(text)


def card(services: Services, admin: User | None, rental_id: int) -> tuple[str, Keyboard]:
    """``/rental ID``: everything about it, and the buttons its state allows."""
    admin = auth.require_admin(services.config, admin)
    rental = rentals.find(rental_id)
    if rental is None:
        raise UserError("ac_no_rental", ref=f"R{rental_id}")
    return card_text(services, rental, admin.language), card_buttons(rental, admin.language)


def card_text(services: Services, rental: Rental, lang: str) -> str:
    user = rental.user
    ports = queries.rental_ports(rental)
    started, ends = queries.from_db(rental.started_at), queries.from_db(rental.expires_at)
    return t(lang, "ac_rental_card", ref=rental.ref, state=rental.state,
             who=esc(display_name(user)), tid=user.telegram_id, uid=user.id,
             image=esc(rental.image_ref), gpus=rental.gpus,
             host=esc(rental.host.name) if rental.host else "—",
             held=",".join(queries.rental_gpus(rental)) or "—",
             ports=", ".join(f"{c}→{h}" for c, h in sorted(ports.items())) or "—",
             plan=t(lang, f"unit_{rental.unit}_n", n=rental.quantity),
             price=format_money(rental.price),
             started=sch.lab_time(services, started) if started else "—",
             ends=sch.lab_time(services, ends) if ends else "—",
             paid=format_money(ledger.rental_balance(rental)),
             blocked=t(lang, "ac_user_blocked_mark") if user.blocked else "")


def card_buttons(rental: Rental, lang: str) -> Keyboard:
    acts = actions_for(State(rental.state))
    buttons = [cb.CONSOLE_ACT.button(t(lang, f"ac_btn_{a}"), rental.id, a) for a in acts]
    rows: Keyboard = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    uid = rental.user.id
    rows.append([cb.CONSOLE_USER_ACT.button(t(lang, "ac_btn_msg"), uid, "msg"),
                 cb.CONSOLE_USER.button(t(lang, "ac_btn_user"), uid)])
    return rows


def confirm(services: Services, admin: User, rental_id: int, act: str) -> tuple[str, Keyboard]:
    """The question before ``act`` runs, with one Yes button carrying the rental's version."""
    admin = auth.require_admin(services.config, admin)
    rental = rentals.find(rental_id)
    if rental is None:
        raise UserError("ac_no_rental", ref=f"R{rental_id}")
    if act not in actions_for(State(rental.state)):
        raise UserError("ac_not_now", ref=rental.ref, state=rental.state)
    lang = admin.language
    yes = Button(t(lang, "ac_btn_yes"), cb.CONSOLE_ACT_OK.build(
        rental.id, act, selfservice.version(rental.id)))
    back = cb.CONSOLE_RENTAL.button(t(lang, "ac_btn_back"), rental.id)
    text = t(lang, f"ac_ask_{act}", ref=rental.ref, who=esc(display_name(rental.user)))
    return text, [[yes, back]]


def still_fresh(rental_id: int, seen: int) -> Rental:
    """The rental, if nothing happened to it since the confirmation was shown."""
    rental = rentals.find(rental_id)
    if rental is None:
        raise UserError("ac_no_rental", ref=f"R{rental_id}")
    if selfservice.version(rental.id) != seen:
        raise UserError("ss_done_already", ref=rental.ref)
    return rental
