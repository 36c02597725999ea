"""Quotes (one plan bought N times) and the cheapest mix of plans that covers a duration."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType

from billing.plans import Plan, PlanError, PriceTable, gpus_label

HOUR = timedelta(hours=1)
DEFAULT_MAX_QUANTITY: Mapping[str, int] = MappingProxyType(
    {"hour": 72, "day": 60, "week": 12, "month": 12}
)
# Bounds the knapsack's memory (a few tens of thousands of entries per GPU count).
MAX_CHEAPEST_DURATION = timedelta(days=731)

_EN_NAMES = {"hour": "hour", "day": "day", "week": "week", "month": "month"}
_ZH_NAMES = {"hour": "小时", "day": "天", "week": "周", "month": "个月"}


class QuoteError(ValueError):
    """A quantity or duration that cannot be quoted; the message says what was expected."""


def unit_count(unit: str, count: int, lang: str = "en") -> str:
    """(week, 3) -> "3 weeks" (en) / "3周" (zh); other languages fall back to English."""
    if lang == "zh":
        return f"{count}{_ZH_NAMES[unit]}"
    name = _EN_NAMES[unit]
    return f"{count} {name}" if count == 1 else f"{count} {name}s"


@dataclass(frozen=True)
class Quote:
    gpus: int
    unit: str
    quantity: int
    total: int  # cents
    duration: timedelta
    per_hour: float  # cents per hour, for display only


def quote(
    table: PriceTable,
    gpus: int,
    unit: str,
    quantity: int,
    max_quantity: Mapping[str, int] | None = None,
) -> Quote:
    """Price `quantity` units of the (gpus, unit) plan; PlanError if there is no such plan."""
    plan = table.plan(gpus, unit)
    limit = {**DEFAULT_MAX_QUANTITY, **(max_quantity or {})}[unit]
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= limit:
        plural = unit_count(unit, limit).split(" ", 1)[1]
        raise QuoteError(f"quantity must be a whole number from 1 to {limit} {plural}")
    duration = table.unit_duration(unit) * quantity
    total = plan.price * quantity
    return Quote(gpus, unit, quantity, total, duration, total / (duration / HOUR))


@dataclass(frozen=True)
class Combination:
    gpus: int
    items: tuple[tuple[Plan, int], ...]  # largest unit first, zero counts omitted
    total: int  # cents
    duration: timedelta  # what the items add up to: at least the duration asked for

    def describe(self, lang: str = "en") -> str:
        """ "1 week + 3 days" (en) / "1周 + 3天" (zh)."""
        return " + ".join(unit_count(plan.unit, count, lang) for plan, count in self.items)


class _Knapsack:
    """Cheapest exact-length fills for one GPU count's plans, grown on demand.

    `best[h]` is the lexicographically smallest (cost, items) over multisets of plans lasting
    exactly h hours (None if none does); `last[h]` is the index of a plan that completes it.
    Growing to n hours costs O(n * P) for P plans (P <= 4); it happens once per table and GPU
    count, then a lookup costs O(L + k) for L hours in the longest plan and k items.
    """

    def __init__(self, plans: list[tuple[Plan, int]]) -> None:
        self.plans = plans  # (plan, length in hours), shortest unit first
        self.longest = max(length for _, length in plans)
        self.best: list[tuple[int, int] | None] = [(0, 0)]
        self.last: list[int] = [-1]
        self._lock = threading.Lock()

    def _grow(self, size: int) -> None:
        for h in range(len(self.best), size):
            choice: tuple[int, int] | None = None
            pick = -1
            for index, (plan, length) in enumerate(self.plans):
                prev = self.best[h - length] if length <= h else None
                if prev is not None:
                    candidate = (prev[0] + plan.price, prev[1] + 1)
                    if choice is None or candidate < choice:
                        choice, pick = candidate, index
            self.best.append(choice)
            self.last.append(pick)

    def cover(self, hours: int) -> list[int]:
        """Counts per plan of the cheapest multiset lasting at least `hours` hours.

        An optimum lasts under hours + longest: otherwise dropping any one item would still
        cover and cost less. Among equal costs, less overshoot wins, then fewer items.
        """
        end = hours + self.longest
        with self._lock:
            if len(self.best) < end:
                self._grow(max(end, 2 * len(self.best)))
        reachable = ((b[0], h, b[1]) for h in range(hours, end) if (b := self.best[h]) is not None)
        _, at, _ = min(reachable)
        counts = [0] * len(self.plans)
        while at > 0:
            index = self.last[at]
            counts[index] += 1
            at -= self.plans[index][1]
        return counts


_KNAPSACKS: weakref.WeakKeyDictionary[PriceTable, dict[int, _Knapsack]] = (
    weakref.WeakKeyDictionary()
)


def _knapsack(table: PriceTable, gpus: int) -> _Knapsack:
    per_table = _KNAPSACKS.setdefault(table, {})
    if gpus not in per_table:
        plans = table.plans_for(gpus)
        if not plans:
            raise PlanError(f"no plan for {gpus_label(gpus)}")
        per_table[gpus] = _Knapsack([(p, table.unit_duration(p.unit) // HOUR) for p in plans])
    return per_table[gpus]


def cheapest(table: PriceTable, gpus: int, duration: timedelta) -> Combination:
    """The lowest-cost mix of `gpus`' plans lasting at least `duration` (rounded up to hours).

    An unbounded knapsack over whole hours, memoised per (table, gpus): the first call for a
    GPU count costs O(H * P) for H hours (about 40k steps for a year), later calls O(L).
    """
    if duration <= timedelta(0):
        raise QuoteError("duration must be positive")
    if duration > MAX_CHEAPEST_DURATION:
        raise QuoteError(f"duration must be at most {MAX_CHEAPEST_DURATION.days} days")
    hours = -(-duration // HOUR)
    knapsack = _knapsack(table, gpus)
    counts = knapsack.cover(hours)
    pairs = zip(knapsack.plans, counts, strict=True)
    items = tuple((plan, count) for (plan, _), count in reversed(list(pairs)) if count)
    total = sum(plan.price * count for plan, count in items)
    span = sum((table.unit_duration(plan.unit) * count for plan, count in items), timedelta())
    return Combination(gpus, items, total, span)


def hint(table: PriceTable, q: Quote) -> Combination | None:
    """A cheaper way to buy q's duration, if there is one (strictly cheaper, else None)."""
    best = cheapest(table, q.gpus, q.duration)
    return best if best.total < q.total else None
