"""The ledger: immutable money movements per student, and what they add up to.

The one billing module that touches the database. Entries are only ever added (no update or
delete here); a mistake is corrected with a new entry. The amount is always positive and the
kind gives the sign:

- debits: ``charge`` (a rental's approval, extension, image or port change), ``refund`` (money
  the lab paid back to the student), ``adjust_debit`` (an admin's correction against them);
- credits: ``payment`` (money the student paid), ``credit`` (part of a charge given back, e.g.
  unused days on early release), ``adjust_credit`` (a correction in the student's favour).

``balance = credits - debits``: negative means the student owes the lab, positive that the lab
holds their money (it pays their next charge, or is paid back as a refund: never more).

``reference`` is the order an entry belongs to: a debit opens one named after its own id
(``G000123``); a payment or credit naming an order carries its reference, else its own. Credit
naming an order pays it first; all other credit pays the oldest debits first (FIFO).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from peewee import JOIN, Case, fn

from billing.money import MAX_CENTS, format_money
from billing.report import HOURS_PER_UNIT, EntryView, Report, build_report, month_bounds
from models.db import db
from models.queries import to_db
from models.tables import AuditEvent, LedgerEntry, Rental, User

CHARGE, PAYMENT, CREDIT, REFUND = "charge", "payment", "credit", "refund"
ADJUST_CREDIT, ADJUST_DEBIT = "adjust_credit", "adjust_debit"
GRANT = "grant"  # time given for free by an admin: recorded, worth nothing
SIGN = {PAYMENT: 1, CREDIT: 1, ADJUST_CREDIT: 1, CHARGE: -1, REFUND: -1, ADJUST_DEBIT: -1,
        GRANT: 0}
DEBITS = frozenset(k for k, s in SIGN.items() if s < 0)
_SIGNED = Case(LedgerEntry.kind, list(SIGN.items())) * LedgerEntry.amount
MAX_REASON = 500


class LedgerError(ValueError):
    """An entry the ledger refuses; nothing was written. The message is plain English."""


class UnknownOrderError(LedgerError):
    """No such order (a debit entry) for that student."""


class AlreadyPaidError(LedgerError):
    """The order is fully paid already."""


def order_ref(entry_id: int) -> str:
    return f"G{entry_id:06d}"


@dataclass(frozen=True)
class OpenCharge:
    id: int
    reference: str
    kind: str
    reason: str
    rental_id: int | None
    amount: int
    due: int  # what is still unpaid, 0 < due <= amount
    created_at: datetime


@dataclass(frozen=True)
class Statement:
    balance: int
    open: list[OpenCharge]
    entries: list[EntryView]  # oldest first
    rental_costs: dict[int, int]  # rental id -> charges minus credits on it


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise LedgerError("the amount must be a whole number of cents")
    if not 0 < amount <= MAX_CENTS:
        limit = format_money(MAX_CENTS)
        raise LedgerError(f"the amount must be more than ¥0.00 and at most {limit}")


def _clean_reason(reason: str, required: bool) -> str:
    text = reason.strip()
    if required and not text:
        raise LedgerError("a reason is required")
    if len(text) > MAX_REASON:
        raise LedgerError(f"the reason is longer than {MAX_REASON} characters")
    return text


def _write(user: User, kind: str, amount: int, now: datetime, reason: str, *,
           rental: Rental | None = None, created_by: User | None = None,
           reference: str = "") -> LedgerEntry:
    """Insert one entry and give it its reference in the same transaction."""
    _check_amount(amount)
    at = to_db(now)
    with db.atomic():
        entry = LedgerEntry.create(user=user, rental=rental, kind=kind, amount=amount,
                                   reason=reason, reference=reference, created_by=created_by,
                                   created_at=at)
        if not reference:
            entry.reference = order_ref(entry.id)
            LedgerEntry.update(reference=entry.reference).where(
                LedgerEntry.id == entry.id).execute()
        _audit(entry, at)
    return entry


def _audit(entry: LedgerEntry, at: datetime) -> None:
    """Every money movement in the audit trail too, with who made it (None: the bot)."""
    sign = "-" if SIGN[entry.kind] < 0 else ""
    AuditEvent.create(at=at, kind=f"ledger_{entry.kind}", rental=entry.rental,
                      actor=entry.created_by, detail=(f"user {entry.user.telegram_id}: {sign}"
                      f"{format_money(entry.amount)} {entry.reference} {entry.reason}")[:500])


def _order_of(user: User, reference: str) -> str:
    """Check that ``reference`` names one of the student's orders; "" stays ""."""
    if not reference:
        return ""
    found = LedgerEntry.get_or_none((LedgerEntry.user == user) & LedgerEntry.kind.in_(DEBITS)
                                    & (LedgerEntry.reference == reference))
    if found is None:
        raise UnknownOrderError(f"no order {reference} for this student")
    return reference


def charge(user: User, amount: int, reason: str, now: datetime, rental: Rental | None = None,
           created_by: User | None = None) -> LedgerEntry:
    """Charge the student; ``reason`` says for what (approval, extension, image/port change)."""
    return _write(user, CHARGE, amount, now, _clean_reason(reason, True), rental=rental,
                  created_by=created_by)


def record_payment(user: User, amount: int, now: datetime, created_by: User | None,
                   rental: Rental | None = None, reference: str = "",
                   reason: str = "") -> LedgerEntry:
    """Money received; ``reference`` optionally names the order it pays."""
    return _write(user, PAYMENT, amount, now, _clean_reason(reason, False), rental=rental,
                  created_by=created_by, reference=_order_of(user, reference))


def credit(user: User, amount: int, reason: str, now: datetime, rental: Rental | None = None,
           created_by: User | None = None, reference: str = "") -> LedgerEntry:
    """Give back part of a charge (e.g. :func:`billing.payment.refund_due`)."""
    return _write(user, CREDIT, amount, now, _clean_reason(reason, True), rental=rental,
                  created_by=created_by, reference=_order_of(user, reference))


def refund(user: User, amount: int, now: datetime, created_by: User | None,
           rental: Rental | None = None, reason: str = "") -> LedgerEntry:
    """Money paid back to the student; refused beyond what the lab holds for them."""
    _check_amount(amount)
    with db.atomic():
        held = balance(user)
        if amount > held:
            raise LedgerError(f"a refund of {format_money(amount)} exceeds the student's "
                              f"credit of {format_money(max(held, 0))}")
        return _write(user, REFUND, amount, now, _clean_reason(reason, False), rental=rental,
                      created_by=created_by)


def adjust(user: User, amount_signed: int, reason: str, now: datetime,
           created_by: User) -> LedgerEntry:
    """An admin's correction: positive in the student's favour, negative against them."""
    if created_by is None or created_by.role != "admin":
        raise LedgerError("only an admin can adjust a balance")
    if isinstance(amount_signed, bool) or not isinstance(amount_signed, int):
        raise LedgerError("the amount must be a whole number of cents")
    kind = ADJUST_CREDIT if amount_signed > 0 else ADJUST_DEBIT
    return _write(user, kind, abs(amount_signed), now, _clean_reason(reason, True),
                  created_by=created_by)


def grant(user: User, rental: Rental, reason: str, now: datetime,
          created_by: User) -> LedgerEntry:
    """Time an admin gave for free (an extension): in the ledger at zero, so the bill and the
    reports show it happened and that nothing was charged."""
    with db.atomic():
        entry = LedgerEntry.create(user=user, rental=rental, kind=GRANT, amount=0,
                                   reason=_clean_reason(reason, True), reference="",
                                   created_by=created_by, created_at=to_db(now))
        entry.reference = order_ref(entry.id)
        LedgerEntry.update(reference=entry.reference).where(LedgerEntry.id == entry.id).execute()
        _audit(entry, to_db(now))
    return entry


def pay_order(order_id: int, now: datetime, created_by: User | None,
              amount: int | None = None) -> LedgerEntry:
    """Pay one order: what is due on it (``amount=None``) or ``amount``; one transaction, so
    the same order is never paid twice."""
    with db.atomic():
        found, due = _debit(order_id)
        if due == 0:
            raise AlreadyPaidError(f"order {found.reference} is already paid")
        return record_payment(found.user, due if amount is None else amount, now, created_by,
                              rental=found.rental, reference=found.reference)


def order(order_id: int) -> OpenCharge:
    """One order with what is still due on it (``due`` is 0 once it is paid)."""
    return _open_charge(*_debit(order_id))


def _debit(order_id: int) -> tuple[LedgerEntry, int]:
    found = LedgerEntry.get_or_none((LedgerEntry.id == order_id) & LedgerEntry.kind.in_(DEBITS))
    if found is None:
        raise UnknownOrderError(f"no order {order_ref(order_id)}")
    return found, _allocate(_entries(LedgerEntry.user == _fk(found, "user")))[found.id]


def _open_charge(e: LedgerEntry, due: int) -> OpenCharge:
    return OpenCharge(e.id, e.reference, e.kind, e.reason, _fk(e, "rental"), e.amount, due,
                      _aware(e.created_at))


def _entries(where: object) -> list[LedgerEntry]:
    return list(LedgerEntry.select().where(where).order_by(LedgerEntry.id))


def _allocate(entries: list[LedgerEntry]) -> dict[int, int]:
    """What each debit still lacks: credits naming an order pay it first, the rest FIFO."""
    due = {e.id: e.amount for e in entries if e.kind in DEBITS}
    orders = {e.reference: e.id for e in entries if e.kind in DEBITS}
    pool = 0
    for e in entries:
        if e.kind in DEBITS:
            continue
        target = orders.get(e.reference)
        paid = 0 if target is None else min(e.amount, due[target])
        if target is not None:
            due[target] -= paid
        pool += e.amount - paid
    for debit_id in sorted(due):
        take = min(pool, due[debit_id])
        due[debit_id] -= take
        pool -= take
    return due


def _sum_signed(where: object) -> int:
    return int(LedgerEntry.select(fn.COALESCE(fn.SUM(_SIGNED), 0)).where(where).scalar())


def balance(user: User) -> int:
    """Credits minus debits, in cents; negative means the student owes the lab."""
    return _sum_signed(LedgerEntry.user == user)


def rental_balance(rental: Rental) -> int:
    """The same sum over entries recorded against one rental."""
    return _sum_signed(LedgerEntry.rental == rental)


def open_charges(user: User) -> list[OpenCharge]:
    """The student's debits not yet covered, oldest first."""
    entries = _entries(LedgerEntry.user == user)
    due = _allocate(entries)
    return [_open_charge(e, due[e.id]) for e in entries if e.kind in DEBITS and due[e.id] > 0]


def unpaid_total() -> int:
    """What all students together owe the lab (credit held for others does not offset it)."""
    per_user = LedgerEntry.select(fn.SUM(_SIGNED)).group_by(LedgerEntry.user)
    return -sum(min(0, int(total)) for (total,) in db.execute(per_user).fetchall())


def debtors() -> list[tuple[User, int]]:
    """Every student who owes the lab, with what they owe (cents, positive), by id."""
    owed = (LedgerEntry.select(LedgerEntry.user, fn.SUM(_SIGNED).alias("total"))
            .group_by(LedgerEntry.user).having(fn.SUM(_SIGNED) < 0))
    totals = {int(row.user_id): -int(row.total) for row in owed}  # type: ignore[attr-defined]
    people = User.select().where(User.id.in_(list(totals))).order_by(User.id)
    return [(u, totals[u.id]) for u in people] if totals else []


def statement(user: User) -> Statement:
    entries = _views(LedgerEntry.user == user)
    costs: dict[int, int] = {}
    for e in entries:
        if e.rental_id is not None and e.kind in (CHARGE, CREDIT):
            costs[e.rental_id] = costs.get(e.rental_id, 0) - e.signed
    return Statement(balance(user), open_charges(user), entries, costs)


def entries_until(end: datetime) -> list[EntryView]:
    """Every entry made before ``end`` (aware), oldest first, for reports."""
    return _views(LedgerEntry.created_at < to_db(end))


def monthly_report(year: int, month: int, tz: tzinfo,
                   hours_per_unit: Mapping[str, int] = HOURS_PER_UNIT) -> Report:
    """The month's report (:mod:`billing.report`) from every entry made before its end."""
    _, end = month_bounds(year, month, tz)
    return build_report(year, month, tz, entries_until(end), hours_per_unit)


def _views(where: object) -> list[EntryView]:
    query = (LedgerEntry.select(LedgerEntry, User, Rental)
             .join(User, on=(LedgerEntry.user == User.id))
             .switch(LedgerEntry)
             .join(Rental, JOIN.LEFT_OUTER, on=(LedgerEntry.rental == Rental.id))
             .where(where).order_by(LedgerEntry.id))
    return [_view(e) for e in query]


def _view(e: LedgerEntry) -> EntryView:
    rental = e.rental if _fk(e, "rental") is not None else None
    plan = None if rental is None else (rental.gpus, rental.unit, rental.quantity)
    return EntryView(e.id, e.reference, e.kind, e.amount, SIGN[e.kind] * e.amount, e.reason,
                     e.user.id, _name(e.user), _fk(e, "rental"), plan, _aware(e.created_at))


def _name(user: User) -> str:
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or str(user.telegram_id)
    return f"{name} (@{user.username})" if user.username else name


def _fk(entry: LedgerEntry, name: str) -> int | None:
    """A foreign key's raw id, without loading the row it points to."""
    value = entry.__data__.get(name)
    return None if value is None else int(value)


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC)
