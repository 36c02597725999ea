"""The monthly report for admins (money in and out, GPU-hours sold, who owes what) and its CSV.

:func:`build_report` is pure: it takes the ledger's entries as plain data and imports nothing
that touches the database; :func:`billing.ledger.monthly_report` fetches them and calls it.

Rules: a month runs from the 1st 00:00 to the next 1st 00:00 in the lab's time zone. Money
columns count entries made in the month. GPU-hours sold count each rental once, in the month
of its first charge (the approval): GPUs x quantity x hours per unit, using the rental's plan
as stored then. Balances and amounts owed are as at the end of the month.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType

HOURS_PER_UNIT: Mapping[str, int] = MappingProxyType(
    {"hour": 1, "day": 24, "week": 168, "month": 720})
FIRST_YEAR, LAST_YEAR = 2000, 2100
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_FIELDS = {"charge": "charges", "payment": "payments", "refund": "refunds", "credit": "credits"}
# Cells Excel would read as a formula: a student's name must never start one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "section",      # total | plan | student
    "student_id",   # student rows: the bot's user id
    "name",         # total: the month (YYYY-MM); student: the student's name
    "gpus",         # plan rows: GPUs per rental
    "unit",         # plan rows: hour | day | week | month
    "rentals",      # total and plan rows: rentals first charged in the month
    "units",        # plan rows: units sold (sum of quantities)
    "gpu_hours",    # total and plan rows: GPU-hours sold
    "charges",      # money columns in yuan, "12.34": entries made in the month
    "payments",
    "refunds",      # money paid back to students
    "credits",      # parts of charges given back
    "adjustments",  # admins' corrections, signed (+ in the students' favour)
    "balance",      # total and student rows: credits - debits at the end of the month
    "owed",         # total and student rows: what is unpaid at the end of the month
)


class ReportError(ValueError):
    """A month that cannot be reported on; the message says what is expected."""


def parse_month(text: str) -> tuple[int, int]:
    """ "2026-11" -> (2026, 11); anything else is refused."""
    match = _MONTH.fullmatch(text.strip())
    if match is None:
        raise ReportError(f"not a month: {text[:20]!r}; write it like 2026-11")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ReportError(f"there is no month {month:02d}; months run from 01 to 12")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReportError(f"the year must be from {FIRST_YEAR} to {LAST_YEAR}")
    return year, month


def month_bounds(year: int, month: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """The month's start and end in ``tz``, as aware UTC datetimes."""
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class EntryView:
    """One ledger entry as plain data, with its student's name and its rental's plan."""

    id: int
    reference: str
    kind: str  # see billing.ledger
    amount: int  # cents, positive
    signed: int  # amount with the kind's sign: + credit, - debit
    reason: str
    user_id: int
    user_name: str
    rental_id: int | None
    plan: tuple[int, str, int] | None  # the rental's (gpus, unit, quantity)
    created_at: datetime  # aware UTC


@dataclass
class Totals:
    charges: int = 0
    payments: int = 0
    refunds: int = 0
    credits: int = 0
    adjustments: int = 0  # signed: in the student's favour minus against them

    def add(self, entry: EntryView) -> None:
        if entry.kind in _FIELDS:
            name = _FIELDS[entry.kind]
            setattr(self, name, getattr(self, name) + entry.amount)
        else:
            self.adjustments += entry.signed

    @property
    def change(self) -> int:
        """What these entries did to the balance."""
        return self.payments + self.credits + self.adjustments - self.charges - self.refunds


@dataclass(frozen=True)
class PlanLine:
    gpus: int
    unit: str
    rentals: int
    units: int
    gpu_hours: int


@dataclass(frozen=True)
class StudentLine:
    user_id: int
    name: str
    month: Totals
    balance: int  # at the end of the month
    owed: int


@dataclass(frozen=True)
class Report:
    year: int
    month: int
    start: datetime
    end: datetime
    totals: Totals
    balance: int  # all students' balances together at the end of the month
    plans: list[PlanLine] = field(default_factory=list)
    students: list[StudentLine] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def unpaid(self) -> int:
        return sum(s.owed for s in self.students)

    @property
    def gpu_hours(self) -> int:
        return sum(p.gpu_hours for p in self.plans)

    @property
    def rentals(self) -> int:
        return sum(p.rentals for p in self.plans)


def build_report(year: int, month: int, tz: tzinfo, entries: Iterable[EntryView],
                 hours_per_unit: Mapping[str, int] = HOURS_PER_UNIT) -> Report:
    """The report from every entry made before the month's end (earlier ones set balances)."""
    start, end = month_bounds(year, month, tz)
    before_end = [e for e in entries if e.created_at < end]
    in_month = [e for e in before_end if e.created_at >= start]
    totals = Totals()
    for entry in in_month:
        totals.add(entry)
    plans = _plans(before_end, start, hours_per_unit)
    balance = sum(e.signed for e in before_end)
    return Report(year, month, start, end, totals, balance, plans, _students(before_end, start))


def _plans(entries: list[EntryView], start: datetime,
           hours_per_unit: Mapping[str, int]) -> list[PlanLine]:
    first_charge: dict[int, EntryView] = {}
    for e in entries:
        if e.kind == "charge" and e.rental_id is not None:
            first_charge.setdefault(e.rental_id, e)
    sold: dict[tuple[int, str], list[int]] = {}
    for e in first_charge.values():
        if e.created_at >= start and e.plan is not None:
            gpus, unit, quantity = e.plan
            line = sold.setdefault((gpus, unit), [0, 0, 0])
            line[0] += 1
            line[1] += quantity
            line[2] += gpus * quantity * hours_per_unit[unit]
    order = list(HOURS_PER_UNIT)
    keys = sorted(sold, key=lambda k: (k[0], order.index(k[1]) if k[1] in order else 99))
    return [PlanLine(g, u, *sold[g, u]) for g, u in keys]


def _students(entries: list[EntryView], start: datetime) -> list[StudentLine]:
    names: dict[int, str] = {}
    balances: dict[int, int] = {}
    months: dict[int, Totals] = {}
    for e in entries:
        names[e.user_id] = e.user_name
        balances[e.user_id] = balances.get(e.user_id, 0) + e.signed
        if e.created_at >= start:
            months.setdefault(e.user_id, Totals()).add(e)
    lines = [StudentLine(uid, names[uid], months.get(uid, Totals()), bal, max(0, -bal))
             for uid, bal in balances.items() if uid in months or bal < 0]
    return sorted(lines, key=lambda s: (-s.owed, s.name, s.user_id))


def yuan(cents: int) -> str:
    """-1234 -> "-12.34": plain numbers a spreadsheet can add up."""
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{frac:02d}"


def _text_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _money_cells(t: Totals) -> list[str]:
    return [yuan(t.charges), yuan(t.payments), yuan(t.refunds), yuan(t.credits),
            yuan(t.adjustments)]


def report_csv(report: Report) -> bytes:
    """The report as CSV (columns in :data:`CSV_COLUMNS`), UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["total", "", report.label, "", "", report.rentals, "", report.gpu_hours,
                     *_money_cells(report.totals), yuan(report.balance), yuan(report.unpaid)])
    for p in report.plans:
        writer.writerow(["plan", "", "", p.gpus, p.unit, p.rentals, p.units, p.gpu_hours,
                         "", "", "", "", "", "", ""])
    for s in report.students:
        writer.writerow(["student", s.user_id, _text_cell(s.name), "", "", "", "", "",
                         *_money_cells(s.month), yuan(s.balance), yuan(s.owed)])
    return out.getvalue().encode("utf-8-sig")
