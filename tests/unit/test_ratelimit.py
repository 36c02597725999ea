"""The per-user token bucket: a burst passes, a flood is told once and then dropped, time
refills it, users do not share buckets, idle buckets are forgotten."""

from __future__ import annotations

import pytest

from bot.ratelimit import CAPACITY, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_burst_up_to_capacity_passes_then_one_warning_then_drops(clock: FakeClock) -> None:
    limiter = RateLimiter(capacity=5, per_second=1, clock=clock)
    verdicts = [limiter.check(7) for _ in range(9)]
    assert verdicts == ["ok"] * 5 + ["warn"] + ["drop"] * 3


def test_time_refills_the_bucket_at_the_rate_and_no_further_than_capacity(
        clock: FakeClock) -> None:
    limiter = RateLimiter(capacity=3, per_second=0.5, clock=clock)
    assert [limiter.check(7) for _ in range(4)] == ["ok", "ok", "ok", "warn"]
    clock.now += 1.9  # 0.95 of a token: still nothing
    assert limiter.check(7) == "drop"
    clock.now += 0.2
    assert limiter.check(7) == "ok"
    clock.now += 3600
    assert [limiter.check(7) for _ in range(4)] == ["ok", "ok", "ok", "warn"]


def test_a_new_flood_after_a_pass_is_warned_again(clock: FakeClock) -> None:
    limiter = RateLimiter(capacity=1, per_second=1, clock=clock)
    assert [limiter.check(7) for _ in range(3)] == ["ok", "warn", "drop"]
    clock.now += 1
    assert [limiter.check(7) for _ in range(3)] == ["ok", "warn", "drop"]


def test_users_have_their_own_buckets(clock: FakeClock) -> None:
    limiter = RateLimiter(capacity=2, per_second=1, clock=clock)
    assert [limiter.check(7) for _ in range(3)] == ["ok", "ok", "warn"]
    assert [limiter.check(8) for _ in range(2)] == ["ok", "ok"]


def test_a_clock_stepping_back_refills_nothing(clock: FakeClock) -> None:
    limiter = RateLimiter(capacity=1, per_second=1, clock=clock)
    assert limiter.check(7) == "ok"
    clock.now -= 500
    assert limiter.check(7) == "warn"


def test_idle_buckets_are_forgotten_when_the_table_is_full(clock: FakeClock) -> None:
    limiter = RateLimiter(capacity=2, per_second=1, clock=clock, max_users=3)
    for uid in (1, 2, 3):
        limiter.check(uid)
    clock.now += 10  # all three are full again
    limiter.check(4)
    assert len(limiter) == 1


def test_busy_buckets_are_kept(clock: FakeClock) -> None:
    limiter = RateLimiter(capacity=2, per_second=1, clock=clock, max_users=2)
    for uid in (1, 1, 2):
        limiter.check(uid)
    assert [limiter.check(3), limiter.check(1)] == ["ok", "warn"]  # 1 did not start afresh


def test_defaults_let_a_whole_request_dialogue_through(clock: FakeClock) -> None:
    limiter = RateLimiter(clock=clock)
    assert CAPACITY >= 20
    assert all(limiter.check(7) == "ok" for _ in range(20))


@pytest.mark.parametrize(("capacity", "rate"), [(0, 1), (5, 0), (5, -1)])
def test_nonsense_settings_are_refused(capacity: float, rate: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(capacity=capacity, per_second=rate)
