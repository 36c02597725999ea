"""Per-user token buckets, so one account cannot flood the bot (and through it the admins).

Any Telegram user can talk to the bot. Each update from a user takes a token from their bucket;
the bucket refills at a steady rate up to its capacity, which leaves room for a burst of quick
taps through a dialogue but not for a script. The first update refused in a flood is told to
slow down; the rest are dropped quietly until the bucket refills. The clock is injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["ok", "warn", "drop"]

CAPACITY = 30.0      # a whole /request dialogue at tapping speed, with room to spare
PER_SECOND = 1.0     # sustained: one update a second, 60 a minute
MAX_USERS = 10_000   # buckets kept before idle (full) ones are forgotten


@dataclass
class Bucket:
    tokens: float
    stamp: float
    warned: bool = False


class RateLimiter:
    """``check(user_id)`` says whether to handle an update: ok, warn (refuse and say so once)
    or drop (refuse quietly)."""

    def __init__(self, capacity: float = CAPACITY, per_second: float = PER_SECOND,
                 clock: Callable[[], float] = time.monotonic,
                 max_users: int = MAX_USERS) -> None:
        if capacity < 1 or per_second <= 0:
            raise ValueError("a bucket needs room for one update and a positive refill rate")
        self.capacity, self.per_second = capacity, per_second
        self.clock, self.max_users = clock, max_users
        self._buckets: dict[int, Bucket] = {}

    def check(self, user_id: int) -> Verdict:
        now = self.clock()
        bucket = self._bucket(user_id, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return "ok"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "warn"

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, user_id: int, now: float) -> Bucket:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.max_users:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = Bucket(self.capacity, now)
        else:
            self._refill(bucket, now)
        return bucket

    def _refill(self, bucket: Bucket, now: float) -> None:
        elapsed = max(now - bucket.stamp, 0.0)  # a clock that steps back refills nothing
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.per_second)
        bucket.stamp = now

    def _forget_idle(self, now: float) -> None:
        """A full bucket holds nothing a new one would not, so forgetting it changes nothing."""
        for user_id, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self.capacity:
                del self._buckets[user_id]
