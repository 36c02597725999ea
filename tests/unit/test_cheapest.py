"""The cheapest mix of plans that covers a duration (an unbounded knapsack over hours)."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.plans import UNITS, Plan, PlanError, PriceTable, default_lab_table
from billing.quote import HOUR, Combination, QuoteError, cheapest

LAB = default_lab_table()
YEAR_HOURS = 365 * 24

durations = st.builds(
    timedelta,
    minutes=st.integers(min_value=1, max_value=YEAR_HOURS * 60),
)


def hours_of(table: PriceTable, plan: Plan) -> int:
    return table.unit_duration(plan.unit) // HOUR


def brute_force_cost(table: PriceTable, gpus: int, hours: int) -> int:
    """Try every count of the longer plans; the shortest plan fills the rest."""
    plans = table.plans_for(gpus)
    shortest, longer = plans[0], plans[1:]
    ranges = [range(math.ceil(hours / hours_of(table, p)) + 1) for p in longer]
    best = math.inf
    for counts in itertools.product(*ranges):
        covered = sum(n * hours_of(table, p) for p, n in zip(longer, counts, strict=True))
        rest = math.ceil(max(0, hours - covered) / hours_of(table, shortest))
        cost = rest * shortest.price + sum(n * p.price for p, n in zip(longer, counts, strict=True))
        best = min(best, cost)
    return int(best)


def assert_well_formed(table: PriceTable, combo: Combination, duration: timedelta) -> None:
    assert combo.duration >= duration
    assert combo.total == sum(plan.price * n for plan, n in combo.items)
    assert combo.duration == sum(
        (table.unit_duration(plan.unit) * n for plan, n in combo.items), timedelta()
    )
    units = [UNITS.index(plan.unit) for plan, _ in combo.items]
    assert units == sorted(units, reverse=True)
    assert all(n > 0 for _, n in combo.items)


@pytest.mark.parametrize(
    ("gpus", "duration", "described", "total"),
    [
        (1, timedelta(days=10), "1 week + 3 days", 32500),
        (1, timedelta(hours=30), "1 day + 6 hours", 4700),
        (1, timedelta(hours=17), "17 hours", 3400),
        (1, timedelta(hours=18), "1 day", 3500),
        (1, timedelta(days=30), "1 month", 75000),
        (2, timedelta(days=365), "12 months + 5 days", 12 * 140000 + 5 * 7500),
    ],
)
def test_cheapest_matches_worked_examples(
    gpus: int, duration: timedelta, described: str, total: int
) -> None:
    combo = cheapest(LAB, gpus, duration)
    assert (combo.describe(), combo.total, combo.gpus) == (described, total, gpus)


def test_cheapest_rounds_the_duration_up_to_whole_hours() -> None:
    combo = cheapest(LAB, 1, timedelta(hours=2, minutes=1))
    assert (combo.describe(), combo.duration) == ("3 hours", timedelta(hours=3))


def test_describe_speaks_chinese_and_falls_back_to_english() -> None:
    combo = cheapest(LAB, 1, timedelta(days=10))
    assert combo.describe("zh") == "1周 + 3天"
    assert combo.describe("fr") == "1 week + 3 days"
    assert cheapest(LAB, 1, timedelta(days=61)).describe("zh") == "2个月 + 1天"


def test_ties_go_to_less_overshoot_then_fewer_items() -> None:
    same_price = PriceTable([Plan(1, "day", 1000), Plan(1, "week", 1000)])
    assert cheapest(same_price, 1, timedelta(days=1)).describe() == "1 day"
    flat_rate = PriceTable([Plan(1, "hour", 100), Plan(1, "day", 2400)])
    assert cheapest(flat_rate, 1, timedelta(hours=48)).describe() == "2 days"


def test_cheapest_works_without_an_hourly_plan() -> None:
    days_only = PriceTable([Plan(1, "day", 1000), Plan(1, "week", 6500)])
    combo = cheapest(days_only, 1, timedelta(hours=5))
    assert (combo.describe(), combo.duration) == ("1 day", timedelta(days=1))


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(hours=-1), timedelta(days=800)])
def test_cheapest_refuses_empty_negative_and_huge_durations(duration: timedelta) -> None:
    with pytest.raises(QuoteError, match="duration must be"):
        cheapest(LAB, 1, duration)


def test_cheapest_refuses_gpu_counts_without_plans() -> None:
    with pytest.raises(PlanError, match="no plan for 3 GPUs"):
        cheapest(LAB, 3, timedelta(days=1))


@given(gpus=st.sampled_from([1, 2]), duration=durations)
def test_cheapest_covers_the_duration_and_adds_up(gpus: int, duration: timedelta) -> None:
    assert_well_formed(LAB, cheapest(LAB, gpus, duration), duration)


@given(gpus=st.sampled_from([1, 2]), duration=durations)
def test_cheapest_never_costs_more_than_any_single_plan(gpus: int, duration: timedelta) -> None:
    combo = cheapest(LAB, gpus, duration)
    hours = math.ceil(duration / HOUR)
    for plan in LAB.plans_for(gpus):
        assert combo.total <= math.ceil(hours / hours_of(LAB, plan)) * plan.price


prices = st.integers(min_value=1, max_value=200_000)
unit_prices = st.lists(
    st.tuples(st.sampled_from(UNITS), prices), min_size=1, unique_by=lambda t: t[0]
)


@settings(max_examples=60)
@given(
    priced=unit_prices,
    hours=st.integers(min_value=1, max_value=24 * 75),
)
def test_cheapest_is_optimal_for_any_price_table(priced: list[tuple[str, int]], hours: int) -> None:
    table = PriceTable(Plan(1, unit, price) for unit, price in priced)
    duration = timedelta(hours=hours)
    combo = cheapest(table, 1, duration)
    assert_well_formed(table, combo, duration)
    assert combo.total == brute_force_cost(table, 1, hours)
