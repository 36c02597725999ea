"""GPU and port allocations: one live holder per GPU and per host port, by the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from peewee import IntegrityError

from models import queries
from models.tables import GpuAllocation, Host, PortAllocation, Rental

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def rental(n: int) -> Rental:
    user = queries.upsert_user(n, f"S{n}", "", "", "en", False, NOW)
    return Rental.create(user=user, state="approved", image_key="k", image_ref="r", gpus=1,
                         unit="hour", quantity=1, price=200, purpose="p",
                         created_at=queries.to_db(NOW))


@pytest.fixture
def host(database: str) -> Host:
    queries.ensure_hosts([("HPC1", "10.0.0.1", [("0", "RTX 3090", 24), ("1", "RTX 3090", 24)])])
    return Host.get(Host.name == "HPC1")


def test_a_held_gpu_cannot_be_allocated_twice(host: Host) -> None:
    queries.allocate(rental(1), host, ["0"], {22: 20000}, NOW)
    with pytest.raises(queries.AllocationConflictError):
        queries.allocate(rental(2), host, ["0"], {22: 20001}, NOW)
    # all or nothing: the loser holds no port either
    assert PortAllocation.select().where(PortAllocation.port == 20001).count() == 0


def test_a_held_port_cannot_be_allocated_twice(host: Host) -> None:
    queries.allocate(rental(1), host, ["0"], {22: 20000}, NOW)
    with pytest.raises(queries.AllocationConflictError):
        queries.allocate(rental(2), host, ["1"], {22: 20000}, NOW)
    assert queries.held_gpus(host) == {"0"}


def test_released_gpus_and_ports_can_be_taken_again(host: Host) -> None:
    first = rental(1)
    queries.allocate(first, host, ["0", "1"], {22: 20000, 8888: 20001}, NOW)
    assert queries.release_gpus(first, NOW + timedelta(hours=1)) == 2
    assert queries.release_ports(first, NOW + timedelta(hours=1)) == 2
    queries.allocate(rental(2), host, ["0"], {22: 20000}, NOW + timedelta(hours=2))
    assert queries.held_gpus(host) == {"0"}


def test_the_database_itself_refuses_a_second_live_holder(host: Host) -> None:
    r1, r2 = rental(1), rental(2)
    GpuAllocation.create(rental=r1, host=host, gpu_index="1", allocated_at=queries.to_db(NOW))
    with pytest.raises(IntegrityError):
        GpuAllocation.create(rental=r2, host=host, gpu_index="1", allocated_at=queries.to_db(NOW))


def test_swap_port_moves_the_hold(host: Host) -> None:
    r1 = rental(1)
    queries.allocate(r1, host, ["0"], {22: 20000, 8888: 20001}, NOW)
    queries.swap_port(r1, host, 20000, 20005, NOW)
    assert queries.rental_ports(r1) == {22: 20005, 8888: 20001}
