"""The model layer's answers to the use cases' questions: free GPUs per host, capacity, who
holds what, once-only claims, GPU samples merged by the hour, rentals by when they end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import hosts, notices, queries, rentals
from models import usage as samples
from models.states import State
from models.tables import GpuSample, Host, Rental

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def rental(n: int, state: State = State.ACTIVE, **fields: object) -> Rental:
    user = queries.upsert_user(n, f"S{n}", "", "", "en", False, NOW)
    return Rental.create(user=user, state=state.value, image_key="k", image_ref="r", gpus=1,
                         unit="hour", quantity=1, price=200, purpose="p",
                         created_at=queries.to_db(NOW), **fields)


def gpus(*ids: str) -> list[tuple[str, str, int]]:
    return [(i, "RTX 3090", 24) for i in ids]


@pytest.fixture
def three_hosts(database: str) -> dict[str, Host]:
    # GPU ids given out of order, with two digits, to check the numeric order of the answer
    queries.ensure_hosts([("HPC1", "10.0.0.1", gpus("10", "2", "0", "1")),
                          ("HPC2", "10.0.0.2", gpus("0", "1")),
                          ("HPC3", "10.0.0.3", gpus("0"))])
    return {h.name: h for h in Host.select()}


def test_free_gpus_are_the_recorded_ones_no_live_rental_holds(three_hosts: dict[str, Host]
                                                               ) -> None:
    hpc1, hpc2 = three_hosts["HPC1"], three_hosts["HPC2"]
    queries.allocate(rental(1), hpc1, ["2", "10"], {}, NOW)
    done = rental(2)
    queries.allocate(done, hpc2, ["0"], {}, NOW)
    queries.release_gpus(done, NOW + timedelta(hours=1))
    assert hosts.free_gpus() == {"HPC1": ["0", "1"], "HPC2": ["0", "1"], "HPC3": ["0"]}


def test_free_gpus_leave_out_disabled_and_unreachable_hosts_unless_asked(
        three_hosts: dict[str, Host]) -> None:
    Host.update(enabled=False).where(Host.name == "HPC3").execute()
    hosts.set_reachable("HPC2", False, "ssh: connection refused")
    assert list(hosts.free_gpus()) == ["HPC1"]
    assert list(hosts.free_gpus(include_unreachable=True)) == ["HPC1", "HPC2"]


def test_host_usage_names_the_rental_behind_each_held_gpu(three_hosts: dict[str, Host]) -> None:
    holder = rental(1)
    queries.allocate(holder, three_hosts["HPC2"], ["1"], {}, NOW)
    by_name = {u.host.name: u for u in hosts.usage()}
    assert [u.host.name for u in hosts.usage()] == ["HPC1", "HPC2", "HPC3"]
    assert by_name["HPC1"].gpus == ["0", "1", "2", "10"] and by_name["HPC1"].held == {}
    assert {g: r.id for g, r in by_name["HPC2"].held.items()} == {"1": holder.id}


def test_capacity_is_the_biggest_enabled_host(three_hosts: dict[str, Host]) -> None:
    assert hosts.capacity() == 4
    Host.update(enabled=False).where(Host.name == "HPC1").execute()
    assert hosts.capacity() == 2


def test_capacity_without_hosts_is_zero(database: str) -> None:
    assert hosts.capacity() == 0


def test_a_host_that_answers_again_is_reachable_without_its_old_error(
        three_hosts: dict[str, Host]) -> None:
    hosts.set_reachable("HPC2", False, "x" * 600)
    [down] = hosts.unreachable()
    assert down.name == "HPC2" and len(down.last_error) == 500
    hosts.set_reachable("HPC2", True)
    assert hosts.unreachable() == []
    assert Host.get(Host.name == "HPC2").last_error == ""


def test_a_claim_is_granted_once_until_it_is_given_up(database: str) -> None:
    assert notices.claim("digest:2026-11-28", NOW)
    assert not notices.claim("digest:2026-11-28", NOW + timedelta(minutes=1))
    assert notices.claimed_at("digest:2026-11-28") == NOW
    assert notices.unclaim("digest:2026-11-28") == 1
    assert notices.claimed_at("digest:2026-11-28") is None
    assert notices.claim("digest:2026-11-28", NOW)


def test_idle_claims_of_rentals_that_stopped_are_dropped(database: str) -> None:
    running, stopped = rental(1), rental(2, State.EXPIRED)
    notices.claim(f"idle:{running.id}", NOW, running)
    notices.claim(f"idle:{stopped.id}", NOW, stopped)
    notices.claim(f"other:{stopped.id}", NOW, stopped)
    assert notices.unclaim_ended("idle:") == 1
    assert notices.rental_ids("idle:") == [running.id]
    assert notices.claimed_at(f"other:{stopped.id}") == NOW
    assert rentals.active_among(notices.rental_ids("idle:")) == [running]


def test_samples_older_than_the_cutoff_merge_into_span_weighted_hours(database: str) -> None:
    mine = rental(1)
    old = NOW - timedelta(days=3)
    samples.record(mine, old, 60, 1000, 500)
    samples.record(mine, old + timedelta(minutes=1), 180, 0, 100)
    samples.record(mine, old + timedelta(hours=1), 60, 400, 400)
    samples.record(mine, NOW, 60, 900, 900)
    merged = samples.compact(NOW - timedelta(days=2), NOW - timedelta(days=10), batch=100)
    assert merged == 3
    hourly = [(r.span_s, r.util_pm, r.mem_pm) for r in
              GpuSample.select().where(GpuSample.hourly).order_by(GpuSample.at)]
    assert hourly == [(240, 250, 200), (60, 400, 400)]
    assert samples.since(mine, NOW - timedelta(hours=1)) == [(NOW, 900, 900)]
    assert samples.newest_at() == NOW


def test_history_before_the_keep_limit_is_pruned(database: str) -> None:
    mine = rental(1)
    samples.record(mine, NOW - timedelta(days=30), 60, 10, 10)
    samples.compact(NOW - timedelta(days=2), NOW - timedelta(days=14), batch=100)
    assert GpuSample.select().count() == 0


def test_average_util_weighs_each_sample_by_its_span(database: str) -> None:
    mine = rental(1)
    assert samples.average_util(mine, NOW - timedelta(hours=1)) is None
    samples.record(mine, NOW - timedelta(minutes=2), 60, 1000, 0)
    samples.record(mine, NOW - timedelta(minutes=1), 180, 200, 0)
    assert samples.average_util(mine, NOW - timedelta(hours=1)) == pytest.approx(40.0)


def test_rentals_holding_gpus_come_soonest_end_first(database: str) -> None:
    late = rental(1, expires_at=queries.to_db(NOW + timedelta(days=2)))
    soon = rental(2, State.PROVISIONING, expires_at=queries.to_db(NOW + timedelta(hours=1)))
    rental(3, State.EXPIRED, expires_at=queries.to_db(NOW))
    rental(4)  # running without a known end
    assert rentals.holding_by_end() == [soon, late]
