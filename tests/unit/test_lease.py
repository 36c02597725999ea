"""One bot process per database: a second one is refused while the first renews its lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import lease

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_a_second_process_is_refused_while_the_first_renews(database: str) -> None:
    lease.take("hpc1:100:a", NOW)
    with pytest.raises(lease.LeaseHeldError) as held:
        lease.take("hpc1:200:b", NOW + timedelta(minutes=1))
    assert held.value.holder == "hpc1:100:a"
    assert lease.renew("hpc1:100:a", NOW + lease.TTL)
    with pytest.raises(lease.LeaseHeldError):
        lease.take("hpc1:200:b", NOW + lease.TTL + timedelta(minutes=1))


def test_a_lease_left_by_a_dead_process_is_taken_over(database: str) -> None:
    lease.take("hpc1:100:a", NOW)
    lease.take("hpc1:200:b", NOW + lease.TTL + timedelta(seconds=1))
    assert not lease.renew("hpc1:100:a", NOW + lease.TTL + timedelta(seconds=2))
    assert lease.renew("hpc1:200:b", NOW + lease.TTL + timedelta(seconds=2))


def test_a_clean_stop_frees_the_database_at_once(database: str) -> None:
    lease.take("hpc1:100:a", NOW)
    lease.give_back("hpc1:100:a")
    lease.take("hpc1:200:b", NOW + timedelta(seconds=1))
    lease.take("hpc1:200:b", NOW + timedelta(seconds=2))  # taking it again is fine


def test_a_holder_known_to_be_dead_is_taken_over_at_once(database: str) -> None:
    lease.take("hpc1:100:a", NOW)
    lease.take("hpc1:200:b", NOW + timedelta(seconds=5), dead=lambda h: h == "hpc1:100:a")
    assert not lease.renew("hpc1:100:a", NOW + timedelta(seconds=6))
    with pytest.raises(lease.LeaseHeldError):
        lease.take("hpc1:300:c", NOW + timedelta(seconds=7), dead=lambda h: h == "hpc1:100:a")
