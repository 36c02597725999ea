"""Payments: charge and ask for payment, record payments (and start what waited for them),
the bill, the monthly report.

No Telegram here: messages go out through the Notifier port (:mod:`bot.ports`) and texts come
from the catalogues. Admin actions re-check the presser against the config's admin list (the
authority; the database row only says who they are), so a stale button or a forwarded one
cannot pay anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from billing import ledger
from billing.money import MoneyError, format_money, parse_money
from billing.payment import payment_payload, qr_png
from billing.report import ReportError, parse_month, report_csv
from bot import auth
from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import Keyboard
from bot.services import Services
from bot.usecases import admins
from bot.usecases.provision import provision
from bot.usecases.users import display_name
from models import queries, rentals
from models.states import State
from models.tables import LedgerEntry, Rental, User

logger = logging.getLogger(__name__)

MAX_PAY_REQUESTS = 5  # QR codes /pay sends at most, oldest orders first


@dataclass(frozen=True)
class PaymentDone:
    payment: LedgerEntry
    student: User
    reference: str  # the order paid
    amount: int
    balance: int  # the student's balance afterwards
    text: str  # the confirmation for the admin who recorded it, in their language


@dataclass(frozen=True)
class MonthlyReport:
    text: str
    csv: bytes
    filename: str


def payment_request(services: Services, user: User, reference: str, reason: str,
                    due: int) -> tuple[bytes, str]:
    """The QR code (PNG) for paying ``due`` on an order, and its caption for the student."""
    billing = services.config.billing
    png = qr_png(payment_payload(billing.payment_payload, due, reference))
    caption = t(user.language, "bill_pay_caption", amount=format_money(due),
                reference=reference, reason=esc(reason))
    if billing.payment_note:
        caption += "\n\n" + esc(billing.payment_note)
    return png, caption


async def charge_and_request_payment(services: Services, user: User, rental: Rental | None,
                                     amount: int, reason: str, now: datetime) -> LedgerEntry:
    """Charge the student, send them the payment QR and send the admins the order card."""
    entry = ledger.charge(user, amount, reason, now, rental=rental)
    logger.info("charged user %d %d cents as order %s", user.id, amount, entry.reference)
    await request_payment(services, user, rental, entry)
    return entry


async def request_payment(services: Services, user: User, rental: Rental | None,
                          entry: LedgerEntry) -> None:
    """The payment QR to the student and the order card to the admins, for a charge made."""
    png, caption = payment_request(services, user, entry.reference, entry.reason, entry.amount)
    await services.notifier.send_photo(user.telegram_id, png, caption)
    for chat_id, lang in admins.targets(services):
        text, buttons = _order_card(lang, user, entry, rental)
        await services.notifier.send(chat_id, text, buttons)


def _order_card(lang: str, user: User, entry: LedgerEntry,
                rental: Rental | None) -> tuple[str, Keyboard]:
    text = t(lang, "bill_admin_order", reference=entry.reference,
             amount=format_money(entry.amount), student=esc(display_name(user)),
             rental=rental.ref if rental is not None else "—", reason=esc(entry.reason))
    buttons = [[cb.PAY.button(t(lang, "bill_btn_mark_paid"), "full", entry.id),
                cb.PAY.button(t(lang, "bill_btn_record"), "part", entry.id)]]
    return text, buttons


def _admin(services: Services, telegram_id: int) -> User:
    """The admin pressing or typing, by the one rule (:mod:`bot.auth`)."""
    return auth.require_admin(services.config, queries.user_by_telegram(telegram_id))


def _order(entry_id: int) -> ledger.OpenCharge:
    """The order, if it can still take a payment."""
    try:
        found = ledger.order(entry_id)
    except ledger.UnknownOrderError:
        raise UserError("bill_unknown_order", reference=ledger.order_ref(entry_id)) from None
    if found.due == 0:
        raise UserError("bill_already_paid", reference=found.reference)
    return found


async def mark_paid(services: Services, admin_telegram_id: int, entry_id: int,
                    now: datetime) -> PaymentDone:
    """Record that the whole amount still due on the order was paid."""
    admin = _admin(services, admin_telegram_id)
    return await _pay(services, admin, entry_id, None, now)


def ask_amount(services: Services, admin_telegram_id: int, entry_id: int) -> str:
    """Check a partial payment can be recorded; the prompt asking the admin for the amount."""
    admin = _admin(services, admin_telegram_id)
    found = _order(entry_id)
    return t(admin.language, "bill_ask_amount", reference=found.reference,
             due=format_money(found.due))


async def record_payment(services: Services, admin_telegram_id: int, entry_id: int,
                         amount_text: str, now: datetime) -> PaymentDone:
    """Record a payment of the amount the admin typed against the order."""
    admin = _admin(services, admin_telegram_id)
    try:
        amount = parse_money(amount_text)
    except MoneyError:
        amount = 0
    if amount == 0:
        raise UserError("bill_bad_amount", text=esc(amount_text.strip()[:40]))
    return await _pay(services, admin, entry_id, amount, now)


async def _pay(services: Services, admin: User, entry_id: int, amount: int | None,
               now: datetime) -> PaymentDone:
    found = _order(entry_id)
    try:
        payment = ledger.pay_order(entry_id, now, admin, amount)
    except ledger.AlreadyPaidError:
        raise UserError("bill_already_paid", reference=found.reference) from None
    student = payment.user
    balance = ledger.balance(student)
    logger.info("admin %d recorded %d cents for order %s", admin.id, payment.amount,
                found.reference)
    values = {"amount": format_money(payment.amount), "reference": found.reference,
              "balance": format_money(balance)}
    await services.notifier.send(student.telegram_id,
                                 t(student.language, "bill_paid_student", **values))
    text = t(admin.language, "bill_paid_admin", student=esc(display_name(student)), **values)
    if payment.rental is not None:
        start_if_payable(services, payment.rental)
    return PaymentDone(payment, student, found.reference, payment.amount, balance, text)


def payable(services: Services, rental: Rental) -> bool:
    """An approved rental may be provisioned: paid, or billed after provisioning."""
    if services.config.billing.collect != "before":
        return True
    return ledger.rental_balance(rental) >= 0


def start_if_payable(services: Services, rental: Rental) -> bool:
    """Start provisioning an approved rental that was waiting for its payment."""
    current = rentals.get(rental.id)
    if current.state != State.APPROVED.value or not payable(services, current):
        return False
    services.spawn(provision(services, rental.id), name=f"provision-R{rental.id}")
    return True


def pay_requests(services: Services, user: User) -> list[tuple[bytes, str]]:
    """QR codes for the student's unpaid orders, oldest first (at most MAX_PAY_REQUESTS)."""
    return [payment_request(services, user, o.reference, o.reason, o.due)
            for o in ledger.open_charges(user)[:MAX_PAY_REQUESTS]]


def bill_text(user: User, lang: str, tz: tzinfo = UTC) -> str:
    """The student's bill: balance, unpaid orders, payments and cost per rental (HTML)."""
    st = ledger.statement(user)
    if not st.entries:
        return t(lang, "bill_title") + "\n" + t(lang, "bill_empty")
    lines = [t(lang, "bill_title"), _balance_line(lang, st.balance)]
    if st.open:
        lines += ["", t(lang, "bill_open_title")]
        lines += [t(lang, "bill_open_line", reference=o.reference, reason=esc(o.reason),
                    due=format_money(o.due), amount=format_money(o.amount)) for o in st.open]
    payments = [e for e in st.entries if e.kind == ledger.PAYMENT]
    if payments:
        lines += ["", t(lang, "bill_payments_title")]
        lines += [t(lang, "bill_payment_line", date=e.created_at.astimezone(tz).date(),
                    reference=e.reference, amount=format_money(e.amount)) for e in payments]
    lines += _admin_entries(st, lang, tz)
    if st.rental_costs:
        lines += ["", t(lang, "bill_rentals_title")]
        lines += [t(lang, "bill_rental_line", rental=f"R{rental_id}", cost=format_money(cost))
                  for rental_id, cost in sorted(st.rental_costs.items())]
    if st.open:
        lines += ["", t(lang, "bill_pay_hint")]
    return "\n".join(lines)


ADMIN_KINDS = (ledger.REFUND, ledger.ADJUST_CREDIT, ledger.ADJUST_DEBIT, ledger.GRANT)


def _admin_entries(st: ledger.Statement, lang: str, tz: tzinfo) -> list[str]:
    """Refunds, adjustments and free time an admin gave: the student sees each one."""
    found = [e for e in st.entries if e.kind in ADMIN_KINDS]
    if not found:
        return []
    return ["", t(lang, "bill_admin_title")] + [
        t(lang, "bill_admin_line", date=e.created_at.astimezone(tz).date(),
          kind=t(lang, f"bill_kind_{e.kind}"), amount=format_money(e.signed),
          reason=esc(e.reason[:80])) for e in found]


def _balance_line(lang: str, balance: int) -> str:
    shown = format_money(balance)
    if balance < 0:
        return t(lang, "bill_balance_owe", balance=shown, owed=format_money(-balance))
    if balance > 0:
        return t(lang, "bill_balance_credit", balance=shown)
    return t(lang, "bill_balance_zero", balance=shown)


def report(services: Services, admin_telegram_id: int, month_text: str,
           now: datetime) -> MonthlyReport:
    """The month's report (default: the current month in lab time) as a summary and a CSV."""
    admin = _admin(services, admin_telegram_id)
    tz = services.config.tz
    if month_text.strip():
        try:
            year, month = parse_month(month_text)
        except ReportError:
            raise UserError("bill_bad_month", text=esc(month_text.strip()[:20])) from None
    else:
        local = now.astimezone(tz)
        year, month = local.year, local.month
    rep = ledger.monthly_report(year, month, tz)
    text = t(admin.language, "bill_report_summary", month=rep.label,
             payments=format_money(rep.totals.payments), charges=format_money(rep.totals.charges),
             refunds=format_money(rep.totals.refunds), gpu_hours=rep.gpu_hours,
             rentals=rep.rentals, unpaid=format_money(rep.unpaid))
    return MonthlyReport(text, report_csv(rep), f"gpurent-{rep.label}.csv")
