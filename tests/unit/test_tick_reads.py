"""The set-based reads the tick makes instead of one query per rental (benchmarks/scheduler.py):
each gives the same answer as the per-rental read it replaces, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import notices, queries, workspaces
from models import usage as samples
from models.states import State
from models.tables import GpuSample, Host, Rental, User

NOW = datetime(2026, 11, 30, 8, 0, 0, 654321, tzinfo=UTC)  # microseconds: keys drop them


def _rental(user: User, host: Host | None, state: State, ended: datetime | None) -> Rental:
    return Rental.create(user=user, host=host, state=state.value, image_key="k", image_ref="r",
                         gpus=1, unit="hour", quantity=1, price=200, purpose="p",
                         created_at=queries.to_db(NOW),
                         ended_at=queries.to_db(ended) if ended else None)


def _ws_key(host: Host, user: User, end: datetime) -> str:
    return f"ws:{host.id}:{user.id}:{int(end.timestamp())}"


def test_idle_uncleared_leaves_out_only_the_cycles_already_deleted(database: str) -> None:
    queries.ensure_hosts([("h1", "10.0.0.1", []), ("h2", "10.0.0.2", [])])
    h1, h2 = Host.get(Host.name == "h1"), Host.get(Host.name == "h2")
    ada, bo = (queries.upsert_user(n, f"S{n}", "", "", "en", False, NOW) for n in (1, 2))
    old, last = NOW - timedelta(days=90), NOW - timedelta(days=40, microseconds=3)
    _rental(ada, h1, State.RELEASED, old)
    _rental(ada, h1, State.RELEASED, last)  # the cycle is named by the last end
    _rental(ada, h2, State.RELEASED, old)
    _rental(bo, h1, State.RELEASED, old)
    _rental(bo, h2, State.RELEASED, old)
    _rental(bo, h2, State.EXPIRED, None)  # in use: never idle
    assert notices.claim(f"done:{_ws_key(h1, ada, old)}", NOW)  # an older cycle: still due
    assert notices.claim(f"done:{_ws_key(h2, ada, old)}", NOW)

    found = {(h.name, u.telegram_id, end) for h, u, end in workspaces.idle_uncleared()}

    assert found == {("h1", 1, last), ("h1", 2, old)}
    assert {(h.name, u.telegram_id, e) for h, u, e in workspaces.idle()} == found | {
        ("h2", 1, old)}


def test_claimed_among_and_prefixes_find_exactly_the_claimed_keys(database: str) -> None:
    for key in ("idle:7", "idle:8", "idlex:9", "done:ws:1:2:3", "sum:1:2026-11-30"):
        assert notices.claim(key, NOW)

    assert notices.claimed_among(["idle:7", "idle:9", "sum:1:2026-11-30", "idle:7"]) == {
        "idle:7", "sum:1:2026-11-30"}
    assert sorted(notices.rental_ids("idle:")) == [7, 8]
    assert workspaces.cleared_keys() == {"ws:1:2:3"}


def test_windows_and_held_gpus_of_many_rentals_match_the_one_rental_reads(
        database: str) -> None:
    queries.ensure_hosts([("h1", "10.0.0.1", [(str(i), "H200", 0) for i in range(4)])])
    h1 = Host.get(Host.name == "h1")
    users = [queries.upsert_user(n, f"S{n}", "", "", "en", False, NOW) for n in (1, 2, 3)]
    running = [_rental(u, h1, State.ACTIVE, None) for u in users]
    queries.allocate(running[0], h1, ["2", "1"], {}, NOW)
    queries.allocate(running[1], h1, ["3"], {}, NOW)
    for minutes in (1, 6, 11, 200):
        samples.record(running[0], NOW - timedelta(minutes=minutes), 300, minutes, 2 * minutes)
    samples.record(running[1], NOW - timedelta(seconds=30), 300, 1000, 0)
    start = NOW - timedelta(hours=2)
    ids = [r.id for r in running]

    many = samples.since_many(ids, start)
    held = samples.live_gpus(ids)

    for rental in running:
        assert many.get(rental.id, []) == samples.since(rental, start)
        assert held.get(rental.id, []) == queries.rental_gpus(rental)
    assert GpuSample.select().count() == 5
