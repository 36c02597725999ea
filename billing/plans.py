"""The price table: which (GPU count, unit) plans exist, what they cost and how long a unit is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

UNITS = ("hour", "day", "week", "month")


class PlanError(ValueError):
    """A plan that does not exist or a table that makes no sense; the message says which."""


@dataclass(frozen=True)
class Plan:
    gpus: int
    unit: str
    price: int  # cents for one unit


def gpus_label(gpus: int) -> str:
    return f"{gpus} GPU" if gpus == 1 else f"{gpus} GPUs"


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise PlanError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")


def _check_plan(plan: Plan) -> None:
    where = f"plan {plan.unit!r} for {gpus_label(plan.gpus)}"
    if plan.unit not in UNITS:
        raise PlanError(f"{where}: unknown unit {plan.unit!r}; expected one of {', '.join(UNITS)}")
    if isinstance(plan.gpus, bool) or not isinstance(plan.gpus, int) or plan.gpus < 1:
        raise PlanError(f"{where}: the GPU count must be a whole number of at least 1")
    if isinstance(plan.price, bool) or not isinstance(plan.price, int) or plan.price <= 0:
        raise PlanError(f"{where}: the price must be a positive whole number of cents")


class PriceTable:
    """Immutable after construction; compared by identity, so it can key caches cheaply."""

    def __init__(self, plans: Iterable[Plan], week_days: int = 7, month_days: int = 30) -> None:
        if week_days < 1 or month_days < 1:
            raise PlanError("a week and a month must each last at least one day")
        self.week_days = week_days
        self.month_days = month_days
        by_key: dict[tuple[int, str], Plan] = {}
        for plan in plans:
            _check_plan(plan)
            key = (plan.gpus, plan.unit)
            if key in by_key:
                raise PlanError(f"duplicate plan {plan.unit!r} for {gpus_label(plan.gpus)}")
            by_key[key] = plan
        self._plans = by_key

    def __repr__(self) -> str:
        days = f"week_days={self.week_days}, month_days={self.month_days}"
        return f"PriceTable({len(self._plans)} plans, {days})"

    def unit_duration(self, unit: str) -> timedelta:
        _check_unit(unit)
        days = {"day": 1, "week": self.week_days, "month": self.month_days}
        return timedelta(hours=1) if unit == "hour" else timedelta(days=days[unit])

    def plans_for(self, gpus: int) -> list[Plan]:
        """That GPU count's plans, ordered hour, day, week, month (missing units skipped)."""
        return [self._plans[gpus, unit] for unit in UNITS if (gpus, unit) in self._plans]

    def gpu_counts(self) -> list[int]:
        return sorted({gpus for gpus, _ in self._plans})

    def plan(self, gpus: int, unit: str) -> Plan:
        _check_unit(unit)
        found = self._plans.get((gpus, unit))
        if found is not None:
            return found
        if not self.plans_for(gpus):
            raise PlanError(f"no plan for {gpus_label(gpus)}")
        raise PlanError(f"no {unit} plan for {gpus_label(gpus)}")


def default_lab_table() -> PriceTable:
    """The lab's eight plans from its rental manual (prices in cents)."""
    prices = {
        1: {"hour": 200, "day": 3500, "week": 22000, "month": 75000},
        2: {"hour": 360, "day": 7500, "week": 42000, "month": 140000},
    }
    return PriceTable(
        Plan(gpus, unit, price) for gpus, units in prices.items() for unit, price in units.items()
    )
