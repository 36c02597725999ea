"""The monthly report against the ledger it summarises, its CSV, and month parsing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from billing import ledger
from billing.ledger import monthly_report
from billing.report import (
    CSV_COLUMNS,
    ReportError,
    month_bounds,
    parse_month,
    report_csv,
)
from models.tables import User
from tests.unit.test_ledger import make_rental, make_user

LAB = ZoneInfo("Asia/Shanghai")
# November 2026 in lab time runs from Oct 31 16:00 UTC to Nov 30 16:00 UTC.
BEFORE = datetime(2026, 10, 31, 15, 59, tzinfo=UTC)
FIRST = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
MIDDLE = datetime(2026, 11, 15, 8, 0, tzinfo=UTC)
LAST = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)
AFTER = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


class TestParseMonth:
    @pytest.mark.parametrize(("text", "expected"), [
        ("2026-11", (2026, 11)), ("2026-01", (2026, 1)), (" 2027-12 ", (2027, 12)),
    ])
    def test_it_reads_year_dash_month(self, text: str, expected: tuple[int, int]) -> None:
        assert parse_month(text) == expected

    @pytest.mark.parametrize("text", [
        "", "abc", "2026-1", "2026/11", "26-11", "2026-11-01", "11-2026", "2026-13", "2026-00",
        "1999-12", "2101-01", "２０２６-１１", "2026-11x", "-2026-11",
    ])
    def test_it_refuses_anything_else_with_a_clear_message(self, text: str) -> None:
        with pytest.raises(ReportError, match=r"month|year|2026-11"):
            parse_month(text)


def test_month_bounds_follow_the_lab_time_zone() -> None:
    assert month_bounds(2026, 11, LAB) == (FIRST, AFTER)
    assert month_bounds(2026, 12, LAB) == (AFTER, datetime(2026, 12, 31, 16, 0, tzinfo=UTC))


@pytest.fixture
def people(database: str) -> tuple[User, User, User]:
    return (make_user(1001, first_name="张伟"), make_user(1002, first_name="=HYPERLINK(1)"),
            make_user(9001, role="admin", first_name="Admin"))


@pytest.fixture
def booked(people: tuple[User, User, User]) -> tuple[User, User, User]:
    """October debts, November business on both sides of the boundaries, a December entry."""
    zhang, other, admin = people
    old = make_rental(zhang, gpus=1, unit="week", quantity=1, price=22_000)
    ledger.charge(zhang, 22_000, "approval R1", BEFORE, rental=old)
    ledger.record_payment(zhang, 10_000, BEFORE, admin)
    big = make_rental(zhang, gpus=2, unit="day", quantity=3, price=22_500)
    ledger.charge(zhang, 22_500, "approval R2", FIRST, rental=big)
    ledger.charge(zhang, 3_000, "image change R1", MIDDLE, rental=old)  # R1 not counted again
    ledger.record_payment(zhang, 20_000, LAST, admin)
    short = make_rental(other, gpus=1, unit="hour", quantity=5, price=1_000)
    ledger.charge(other, 1_000, "approval R3", MIDDLE, rental=short)
    ledger.record_payment(other, 3_000, MIDDLE, admin)
    ledger.refund(other, 1_500, LAST, admin)
    ledger.credit(zhang, 500, "unused day", MIDDLE, rental=big)
    ledger.adjust(other, -200, "late fee", MIDDLE, admin)
    ledger.charge(other, 9_999, "approval R4", AFTER)
    return people


def test_report_totals_equal_the_ledger_sums(booked: tuple[User, User, User]) -> None:
    zhang, other, _ = booked
    report = monthly_report(2026, 11, LAB)
    in_month = [e for e in ledger.entries_until(AFTER) if e.created_at >= FIRST]
    by_kind = {kind: sum(e.amount for e in in_month if e.kind == kind)
               for kind in ("charge", "payment", "refund", "credit")}
    assert report.totals.charges == by_kind["charge"] == 22_500 + 3_000 + 1_000
    assert report.totals.payments == by_kind["payment"] == 23_000
    assert report.totals.refunds == by_kind["refund"] == 1_500
    assert report.totals.credits == by_kind["credit"] == 500
    assert report.totals.adjustments == -200
    assert report.totals.change == sum(e.signed for e in in_month)
    balances = {s.user_id: s.balance for s in report.students}
    # The December charge is not in November's balances.
    assert balances == {zhang.id: ledger.balance(zhang), other.id: ledger.balance(other) + 9_999}
    assert report.unpaid == 22_000 - 10_000 + 22_500 + 3_000 - 20_000 - 500
    assert report.balance == sum(balances.values())


def test_gpu_hours_count_each_rental_once_in_the_month_of_its_approval(
        booked: tuple[User, User, User]) -> None:
    report = monthly_report(2026, 11, LAB)
    lines = {(p.gpus, p.unit): (p.rentals, p.units, p.gpu_hours) for p in report.plans}
    assert lines == {(1, "hour"): (1, 5, 5), (2, "day"): (1, 3, 144)}
    assert (report.gpu_hours, report.rentals) == (149, 2)
    october = monthly_report(2026, 10, LAB)
    assert [(p.gpus, p.unit, p.gpu_hours) for p in october.plans] == [(1, "week", 168)]


def test_students_who_owe_are_listed_even_without_business_that_month(
        booked: tuple[User, User, User]) -> None:
    zhang, _, _ = booked
    october = monthly_report(2026, 10, LAB)
    assert [(s.user_id, s.owed) for s in october.students] == [(zhang.id, 12_000)]
    assert october.totals.charges == 22_000


def test_an_empty_month_has_zero_totals(database: str) -> None:
    report = monthly_report(2026, 11, LAB)
    assert (report.totals.change, report.unpaid, report.gpu_hours) == (0, 0, 0)
    assert report.students == [] and report.plans == []


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def test_csv_parses_back_to_the_same_numbers(booked: tuple[User, User, User]) -> None:
    zhang, other, _ = booked
    report = monthly_report(2026, 11, LAB)
    rows = read_csv(report_csv(report))
    (total,) = [r for r in rows if r["section"] == "total"]
    assert total["name"] == "2026-11"
    assert (total["charges"], total["payments"], total["refunds"]) == ("265.00", "230.00", "15.00")
    assert (total["credits"], total["adjustments"], total["gpu_hours"]) == ("5.00", "-2.00", "149")
    assert total["owed"] == f"{report.unpaid // 100}.{report.unpaid % 100:02d}"
    plans = {(r["gpus"], r["unit"]): r["gpu_hours"] for r in rows if r["section"] == "plan"}
    assert plans == {("1", "hour"): "5", ("2", "day"): "144"}
    students = {int(r["student_id"]): r for r in rows if r["section"] == "student"}
    assert students[zhang.id]["name"] == "张伟"
    assert students[zhang.id]["owed"] == "170.00"
    assert sum(float(r["payments"]) for r in students.values()) == pytest.approx(230.00)
    assert students[other.id]["balance"] == "3.00"


def test_csv_never_starts_a_cell_with_a_formula(booked: tuple[User, User, User]) -> None:
    _, other, _ = booked
    rows = read_csv(report_csv(monthly_report(2026, 11, LAB)))
    (row,) = [r for r in rows if r["student_id"] == str(other.id)]
    assert row["name"] == "'=HYPERLINK(1)"
