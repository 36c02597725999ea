"""The price table and quotes for one plan bought several times."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing.money import format_per_hour
from billing.plans import UNITS, Plan, PlanError, PriceTable, default_lab_table
from billing.quote import QuoteError, hint, quote


@pytest.fixture
def table() -> PriceTable:
    return default_lab_table()


# Per-hour figures computed with a 30-day month (the manual's month rows assume 4 weeks).
LAB_PLANS = [
    (1, "hour", 200, 200.0, "¥2.00/h"),
    (1, "day", 3500, 3500 / 24, "¥1.46/h"),
    (1, "week", 22000, 22000 / 168, "¥1.31/h"),
    (1, "month", 75000, 75000 / 720, "¥1.04/h"),
    (2, "hour", 360, 360.0, "¥3.60/h"),
    (2, "day", 7500, 312.5, "¥3.13/h"),
    (2, "week", 42000, 250.0, "¥2.50/h"),
    (2, "month", 140000, 140000 / 720, "¥1.94/h"),
]


@pytest.mark.parametrize(("gpus", "unit", "price", "per_hour", "shown"), LAB_PLANS)
def test_quote_for_one_unit_of_each_lab_plan(
    table: PriceTable, gpus: int, unit: str, price: int, per_hour: float, shown: str
) -> None:
    q = quote(table, gpus, unit, 1)
    assert (q.gpus, q.unit, q.quantity, q.total) == (gpus, unit, 1, price)
    assert q.duration == table.unit_duration(unit)
    assert q.per_hour == pytest.approx(per_hour)
    assert format_per_hour(q.per_hour) == shown


def test_quote_multiplies_price_and_duration_by_quantity(table: PriceTable) -> None:
    q = quote(table, 2, "week", 3)
    assert q.total == 3 * 42000
    assert q.duration == timedelta(weeks=3)
    assert q.per_hour == pytest.approx(250.0)


@pytest.mark.parametrize(
    ("unit", "too_many", "expected"),
    [
        ("hour", 73, "from 1 to 72 hours"),
        ("day", 61, "from 1 to 60 days"),
        ("week", 13, "from 1 to 12 weeks"),
        ("month", 13, "from 1 to 12 months"),
    ],
)
def test_quote_refuses_quantities_above_the_unit_limit(
    table: PriceTable, unit: str, too_many: int, expected: str
) -> None:
    quote(table, 1, unit, too_many - 1)
    with pytest.raises(QuoteError, match=f"quantity must be a whole number {expected}"):
        quote(table, 1, unit, too_many)


@pytest.mark.parametrize("quantity", [0, -1, 2.5, True, "3"])
def test_quote_refuses_quantities_that_are_not_positive_whole_numbers(
    table: PriceTable, quantity: object
) -> None:
    with pytest.raises(QuoteError, match="from 1 to 72 hours"):
        quote(table, 1, "hour", quantity)  # type: ignore[arg-type]


def test_quote_takes_per_unit_limits_from_the_caller(table: PriceTable) -> None:
    assert quote(table, 1, "hour", 100, max_quantity={"hour": 100}).total == 20000
    with pytest.raises(QuoteError, match=r"from 1 to 1 hour$"):
        quote(table, 1, "hour", 2, max_quantity={"hour": 1})
    assert quote(table, 1, "day", 60, max_quantity={"hour": 1}).quantity == 60


def test_quote_refuses_plans_that_do_not_exist(table: PriceTable) -> None:
    with pytest.raises(PlanError, match="no plan for 3 GPUs"):
        quote(table, 3, "hour", 1)
    with pytest.raises(PlanError, match="unknown unit 'fortnight'"):
        quote(table, 1, "fortnight", 1)


def test_hint_offers_a_cheaper_mix_for_ten_days(table: PriceTable) -> None:
    better = hint(table, quote(table, 1, "day", 10))
    assert better is not None
    assert better.describe() == "1 week + 3 days"
    assert better.total == 32500


def test_hint_offers_a_day_instead_of_thirty_hours(table: PriceTable) -> None:
    better = hint(table, quote(table, 1, "hour", 30))
    assert better is not None
    assert (better.describe(), better.total) == ("1 day + 6 hours", 4700)


@pytest.mark.parametrize(("unit", "quantity"), [("hour", 3), ("week", 1), ("month", 1)])
def test_hint_is_none_when_the_quote_is_already_cheapest(
    table: PriceTable, unit: str, quantity: int
) -> None:
    assert hint(table, quote(table, 1, unit, quantity)) is None


def test_lab_table_has_four_plans_per_gpu_count_in_unit_order(table: PriceTable) -> None:
    assert table.gpu_counts() == [1, 2]
    for gpus in (1, 2):
        assert [p.unit for p in table.plans_for(gpus)] == list(UNITS)
    assert table.plans_for(3) == []


def test_unit_durations_follow_week_and_month_lengths() -> None:
    table = PriceTable([Plan(1, "hour", 100)], week_days=5, month_days=28)
    assert [table.unit_duration(u) for u in UNITS] == [
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(days=5),
        timedelta(days=28),
    ]
    with pytest.raises(PlanError, match="unknown unit 'fortnight'"):
        table.unit_duration("fortnight")


def test_plan_lookup_says_which_plan_is_missing() -> None:
    table = PriceTable([Plan(1, "hour", 100), Plan(1, "day", 2000)])
    assert table.plan(1, "day") == Plan(1, "day", 2000)
    with pytest.raises(PlanError, match="no plan for 3 GPUs"):
        table.plan(3, "hour")
    with pytest.raises(PlanError, match=r"no week plan for 1 GPU$"):
        table.plan(1, "week")
    with pytest.raises(PlanError, match="unknown unit 'fortnight'"):
        table.plan(1, "fortnight")


@pytest.mark.parametrize(
    ("plans", "message"),
    [
        ([Plan(1, "day", 100), Plan(1, "day", 200)], "duplicate plan 'day' for 1 GPU"),
        ([Plan(0, "day", 100)], "plan 'day' for 0 GPUs: the GPU count"),
        ([Plan(2, "week", 0)], "plan 'week' for 2 GPUs: the price"),
        ([Plan(2, "week", -5)], "plan 'week' for 2 GPUs: the price"),
        ([Plan(1, "fortnight", 100)], "plan 'fortnight' for 1 GPU: unknown unit"),
    ],
)
def test_price_table_refuses_bad_plans_naming_the_plan(plans: list[Plan], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        PriceTable(plans)


def test_price_table_refuses_empty_weeks_and_months() -> None:
    with pytest.raises(PlanError, match="at least one day"):
        PriceTable([Plan(1, "hour", 100)], month_days=0)
