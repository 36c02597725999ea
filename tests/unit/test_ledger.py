"""The ledger on a real SQLite database: signs, balances, references, refusals, FIFO."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import ledger
from billing.money import MAX_CENTS
from models.db import close_database, open_database
from models.queries import to_db
from models.tables import LedgerEntry, Rental, User

NOW = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def make_user(telegram_id: int, role: str = "student", first_name: str = "Li",
              language: str = "zh") -> User:
    return User.create(telegram_id=telegram_id, first_name=first_name, role=role,
                       language=language, created_at=to_db(NOW))


def make_rental(user: User, gpus: int = 2, unit: str = "day", quantity: int = 3,
                price: int = 22500) -> Rental:
    return Rental.create(user=user, state="approved", image_key="pytorch", image_ref="x:1",
                         gpus=gpus, unit=unit, quantity=quantity, price=price, purpose="train",
                         created_at=to_db(NOW))


@pytest.fixture
def student(database: str) -> User:
    return make_user(1001)


@pytest.fixture
def admin(database: str) -> User:
    return make_user(9001, role="admin", first_name="Admin")


def count() -> int:
    return LedgerEntry.select().count()


class TestReferencesAndStorage:
    def test_it_names_each_order_after_its_id(self, student: User) -> None:
        first = ledger.charge(student, 100, "approval R1", NOW)
        second = ledger.charge(student, 200, "extension R1", NOW)
        assert first.reference == f"G{first.id:06d}"
        assert second.reference == f"G{second.id:06d}"
        assert LedgerEntry.get_by_id(first.id).reference == first.reference

    def test_it_stores_positive_amounts_and_lets_the_kind_give_the_sign(
            self, student: User, admin: User) -> None:
        ledger.charge(student, 500, "approval", NOW)
        ledger.adjust(student, -200, "late fee", NOW, admin)
        assert {e.amount for e in LedgerEntry.select()} == {500, 200}
        assert ledger.balance(student) == -700

    def test_a_payment_naming_an_order_carries_that_orders_reference(
            self, student: User, admin: User) -> None:
        order = ledger.charge(student, 500, "approval", NOW)
        paid = ledger.record_payment(student, 500, NOW, admin, reference=order.reference)
        loose = ledger.record_payment(student, 100, NOW, admin)
        assert paid.reference == order.reference
        assert loose.reference == f"G{loose.id:06d}"

    def test_times_come_back_as_aware_utc(self, student: User) -> None:
        ledger.charge(student, 100, "approval", NOW)
        (view,) = ledger.entries_until(NOW + timedelta(seconds=1))
        assert view.created_at == NOW and view.created_at.tzinfo is not None
        assert ledger.entries_until(NOW) == []


class TestBalance:
    def test_balance_is_credits_minus_debits(self, student: User, admin: User) -> None:
        ledger.charge(student, 10_000, "approval", NOW)          # -100.00
        ledger.record_payment(student, 12_000, NOW, admin)      # +120.00
        ledger.credit(student, 3_000, "unused days", NOW)       # +30.00
        ledger.refund(student, 5_000, NOW, admin)               # -50.00 paid back
        ledger.adjust(student, 1_000, "goodwill", NOW, admin)   # +10.00
        ledger.adjust(student, -500, "late fee", NOW, admin)    # -5.00
        assert ledger.balance(student) == -10_000 + 12_000 + 3_000 - 5_000 + 1_000 - 500

    def test_negative_balance_means_the_student_owes(self, student: User, admin: User) -> None:
        ledger.charge(student, 3_500, "approval", NOW)
        assert ledger.balance(student) == -3_500
        ledger.record_payment(student, 3_500, NOW, admin)
        assert ledger.balance(student) == 0

    def test_rental_balance_counts_only_that_rentals_entries(
            self, student: User, admin: User) -> None:
        one, two = make_rental(student), make_rental(student)
        ledger.charge(student, 1_000, "approval", NOW, rental=one)
        ledger.charge(student, 2_000, "approval", NOW, rental=two)
        ledger.record_payment(student, 400, NOW, admin, rental=one)
        assert ledger.rental_balance(one) == -600
        assert ledger.rental_balance(two) == -2_000

    def test_unpaid_total_is_what_debtors_owe_and_ignores_others_credit(
            self, student: User, admin: User) -> None:
        other = make_user(1002)
        ledger.charge(student, 1_000, "approval", NOW)
        ledger.record_payment(other, 5_000, NOW, admin)
        ledger.charge(admin, 300, "approval", NOW)
        assert ledger.unpaid_total() == 1_300

    def test_unpaid_total_of_an_empty_ledger_is_zero(self, database: str) -> None:
        assert ledger.unpaid_total() == 0


class TestRefusals:
    @pytest.mark.parametrize("amount", [0, -1, MAX_CENTS + 1, True, 1.5, "100"])
    def test_bad_amounts_are_refused_and_nothing_is_written(
            self, student: User, admin: User, amount: Any) -> None:
        ledger.charge(student, 100, "approval", NOW)
        calls: list[Callable[[], object]] = [
            lambda: ledger.charge(student, amount, "approval", NOW),
            lambda: ledger.record_payment(student, amount, NOW, admin),
            lambda: ledger.credit(student, amount, "unused", NOW),
            lambda: ledger.refund(student, amount, NOW, admin),
        ]
        for call in calls:
            with pytest.raises(ledger.LedgerError):
                call()
        assert count() == 1

    def test_the_largest_amount_is_accepted(self, student: User) -> None:
        assert ledger.charge(student, MAX_CENTS, "approval", NOW).amount == MAX_CENTS

    def test_a_charge_needs_a_reason(self, student: User) -> None:
        with pytest.raises(ledger.LedgerError, match="reason"):
            ledger.charge(student, 100, "  ", NOW)
        with pytest.raises(ledger.LedgerError, match="longer"):
            ledger.charge(student, 100, "x" * (ledger.MAX_REASON + 1), NOW)
        assert count() == 0

    def test_an_adjustment_needs_an_admin_a_reason_and_a_nonzero_amount(
            self, student: User, admin: User) -> None:
        with pytest.raises(ledger.LedgerError, match="admin"):
            ledger.adjust(student, 100, "goodwill", NOW, student)
        with pytest.raises(ledger.LedgerError, match="admin"):
            ledger.adjust(student, 100, "goodwill", NOW, None)  # type: ignore[arg-type]
        with pytest.raises(ledger.LedgerError, match="reason"):
            ledger.adjust(student, 100, "", NOW, admin)
        with pytest.raises(ledger.LedgerError):
            ledger.adjust(student, 0, "nothing", NOW, admin)
        with pytest.raises(ledger.LedgerError):
            ledger.adjust(student, -(MAX_CENTS + 1), "huge", NOW, admin)
        assert count() == 0

    def test_a_refund_cannot_exceed_what_the_lab_holds(self, student: User, admin: User) -> None:
        ledger.charge(student, 1_000, "approval", NOW)
        ledger.record_payment(student, 1_500, NOW, admin)
        with pytest.raises(ledger.LedgerError, match="exceeds"):
            ledger.refund(student, 501, NOW, admin)
        assert count() == 2
        ledger.refund(student, 500, NOW, admin)
        assert ledger.balance(student) == 0

    def test_a_payment_naming_someone_elses_order_is_refused(
            self, student: User, admin: User) -> None:
        theirs = ledger.charge(make_user(1002), 100, "approval", NOW)
        with pytest.raises(ledger.UnknownOrderError):
            ledger.record_payment(student, 100, NOW, admin, reference=theirs.reference)
        with pytest.raises(ledger.UnknownOrderError):
            ledger.record_payment(student, 100, NOW, admin, reference="G999999")
        assert count() == 1

    def test_naive_times_are_refused(self, student: User) -> None:
        with pytest.raises(ValueError, match="naive"):
            ledger.charge(student, 100, "approval", NOW.replace(tzinfo=None))
        assert count() == 0


def test_entries_are_immutable_there_is_no_update_or_delete_api() -> None:
    public = [name for name in dir(ledger) if not name.startswith("_")]
    verbs = ("update", "delete", "edit", "remove", "void", "cancel", "modify", "set_")
    assert not [name for name in public if name.lower().startswith(verbs)]


class TestOpenCharges:
    def test_payments_cover_the_oldest_charges_first(self, student: User, admin: User) -> None:
        a = ledger.charge(student, 10_000, "approval", NOW)
        b = ledger.charge(student, 5_000, "extension", NOW)
        c = ledger.charge(student, 3_000, "port change", NOW)
        ledger.record_payment(student, 12_000, NOW, admin)
        dues = {o.id: o.due for o in ledger.open_charges(student)}
        assert dues == {b.id: 3_000, c.id: 3_000}
        assert a.id not in dues

    def test_a_payment_naming_an_order_pays_that_order_first(
            self, student: User, admin: User) -> None:
        a = ledger.charge(student, 10_000, "approval", NOW)
        b = ledger.charge(student, 5_000, "extension", NOW)
        ledger.record_payment(student, 6_000, NOW, admin, reference=b.reference)
        (left,) = ledger.open_charges(student)
        assert (left.id, left.due, left.amount) == (a.id, 9_000, 10_000)

    def test_credits_and_admin_debits_take_part(self, student: User, admin: User) -> None:
        a = ledger.charge(student, 1_000, "approval", NOW)
        ledger.adjust(student, -250, "late fee", NOW, admin)
        ledger.credit(student, 1_000, "unused days", NOW, reference=a.reference)
        (left,) = ledger.open_charges(student)
        assert (left.kind, left.due) == (ledger.ADJUST_DEBIT, 250)

    def test_pay_order_pays_what_is_due_once(self, student: User, admin: User) -> None:
        rental = make_rental(student)
        order = ledger.charge(student, 3_500, "approval", NOW, rental=rental)
        ledger.record_payment(student, 500, NOW, admin, reference=order.reference)
        paid = ledger.pay_order(order.id, NOW, admin)
        assert (paid.kind, paid.amount, paid.reference) == ("payment", 3_000, order.reference)
        assert paid.rental_id == rental.id  # type: ignore[attr-defined]
        with pytest.raises(ledger.AlreadyPaidError):
            ledger.pay_order(order.id, NOW, admin)
        assert count() == 3 and ledger.balance(student) == 0

    def test_pay_order_refuses_what_is_not_an_order(self, student: User, admin: User) -> None:
        payment = ledger.record_payment(student, 100, NOW, admin)
        with pytest.raises(ledger.UnknownOrderError):
            ledger.pay_order(payment.id, NOW, admin)
        with pytest.raises(ledger.UnknownOrderError):
            ledger.order(424242)
        assert count() == 1

    def test_statement_lists_entries_open_orders_and_cost_per_rental(
            self, student: User, admin: User) -> None:
        rental = make_rental(student)
        ledger.charge(student, 3_500, "approval", NOW, rental=rental)
        ledger.charge(student, 3_000, "image change", NOW, rental=rental)
        ledger.credit(student, 1_000, "unused day", NOW, rental=rental)
        ledger.record_payment(student, 2_000, NOW, admin)
        st = ledger.statement(student)
        assert [e.kind for e in st.entries] == ["charge", "charge", "credit", "payment"]
        assert st.rental_costs == {rental.id: 5_500}
        assert st.balance == -3_500
        assert sum(o.due for o in st.open) == 3_500


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["charge", "pay", "pay_order", "credit", "adjust"]),
              st.integers(min_value=1, max_value=50_000), st.integers(min_value=0, max_value=9)),
    max_size=25)


@pytest.fixture
def fresh_database() -> Iterator[None]:
    """Each example opens its own in-memory database; this closes the last one."""
    yield
    close_database()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPERATIONS)
def test_what_is_open_always_adds_up_to_what_is_owed(
        fresh_database: None, operations: list[tuple[str, int, int]]) -> None:
    open_database("sqlite:///:memory:")
    student, admin = make_user(1), make_user(2, role="admin")
    orders: list[LedgerEntry] = []
    for op, amount, pick in operations:
        target = orders[pick % len(orders)].reference if orders and pick % 2 else ""
        if op == "charge":
            orders.append(ledger.charge(student, amount, "approval", NOW))
        elif op == "pay":
            ledger.record_payment(student, amount, NOW, admin, reference=target)
        elif op == "credit":
            ledger.credit(student, amount, "unused", NOW, reference=target)
        elif op == "adjust":
            ledger.adjust(student, amount if pick % 2 else -amount, "fix", NOW, admin)
        elif orders and ledger.order(orders[pick % len(orders)].id).due:
            ledger.pay_order(orders[pick % len(orders)].id, NOW, admin)
    balance = ledger.balance(student)
    open_orders = ledger.open_charges(student)
    assert sum(o.due for o in open_orders) == max(0, -balance)
    assert all(0 < o.due <= o.amount for o in open_orders)
    assert ledger.unpaid_total() == max(0, -balance)
    close_database()
