"""Students' workspaces on hosts: which are idle (no rental uses them), and since when."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from peewee import SQL, IntegrityError, PostgresqlDatabase, fn

from models.base import db
from models.notices import prefixed
from models.states import ON_HOST, State
from models.tables import Host, Notice, Rental, User
from models.times import from_db, to_db


def idle() -> list[tuple[Host, User, datetime]]:
    """(host, student, end of their last rental there) for workspaces no rental uses."""
    last = fn.MAX(Rental.ended_at).python_value(Rental.ended_at.python_value)
    query = (Rental.select(Rental.host, Rental.user, last)
             .where((Rental.state == State.RELEASED.value) & Rental.host.is_null(False)
                    & Rental.ended_at.is_null(False))
             .group_by(Rental.host, Rental.user).tuples())
    rows = cast(list[tuple[int, int, datetime | None]], list(query))
    in_use = (Rental.select(Rental.host, Rental.user)
              .where(Rental.state.in_([s.value for s in ON_HOST])).tuples())
    busy = set(cast(list[tuple[int, int]], list(in_use)))
    found = []
    for host_id, user_id, ended in rows:
        end = from_db(ended)
        if (host_id, user_id) not in busy and end is not None:
            found.append((Host.get_by_id(host_id), User.get_by_id(user_id), end))
    return found


def _epoch(column: Any) -> Any:
    """Whole seconds since the epoch of a naive-UTC column, as ``int(when.timestamp())``
    writes them into the claim keys."""
    if isinstance(db.obj, PostgresqlDatabase):
        return fn.FLOOR(fn.date_part("epoch", column)).cast("BIGINT")
    return fn.strftime("%s", column).cast("INTEGER")


def idle_uncleared() -> list[tuple[Host, User, datetime]]:
    """:func:`idle`, less the workspaces whose current cycle was already deleted (its
    ``done:ws:<host>:<user>:<epoch of the end>`` claim exists). The tick asks this every
    minute: the database answers it from an index, so years of rentals cost it little and
    only the workspaces still to warn about or delete come back."""
    last = fn.MAX(Rental.ended_at)
    pairs = (Rental.select(Rental.host.alias("host_id"), Rental.user.alias("user_id"),
                           last.alias("last"))
             .where((Rental.state == State.RELEASED.value) & Rental.host.is_null(False)
                    & Rental.ended_at.is_null(False))
             .group_by(Rental.host, Rental.user)).alias("pairs")
    busy = Rental.alias("busy")
    in_use_now = busy.select(SQL("1")).where(
        (busy.host == pairs.c.host_id) & (busy.user == pairs.c.user_id)
        & busy.state.in_([s.value for s in ON_HOST]))
    done_key = (SQL("'done:ws:'").concat(pairs.c.host_id.cast("TEXT")).concat(SQL("':'"))
                .concat(pairs.c.user_id.cast("TEXT")).concat(SQL("':'"))
                .concat(_epoch(pairs.c.last).cast("TEXT")))
    done = Notice.select(SQL("1")).where(Notice.key == done_key)
    query = (Rental.select(pairs.c.host_id, pairs.c.user_id, pairs.c.last).from_(pairs)
             .where(~fn.EXISTS(in_use_now) & ~fn.EXISTS(done)).tuples())
    rows = cast(list[tuple[int, int, Any]], list(query))
    return _with_rows(rows)


def _with_rows(rows: list[tuple[int, int, Any]]) -> list[tuple[Host, User, datetime]]:
    """(host id, user id, naive end) rows as (Host, User, aware end), two queries in all."""
    if not rows:
        return []
    hosts = {h.id: h for h in Host.select().where(Host.id.in_({r[0] for r in rows}))}
    users = {u.id: u for u in User.select().where(User.id.in_({r[1] for r in rows}))}
    found = []
    for host_id, user_id, ended in rows:
        end = from_db(Rental.ended_at.python_value(ended))
        if end is not None:
            found.append((hosts[host_id], users[user_id], end))
    return found


def in_use(host: Host, user: User) -> bool:
    """A rental of the student on the host still uses (or is about to use) the workspace."""
    return bool(Rental.select().where((Rental.host == host) & (Rental.user == user)
                                      & Rental.state.in_([s.value for s in ON_HOST])).exists())


def cleared_keys() -> set[str]:
    """The retention cycles whose workspace was already deleted (their ``done:`` claims)."""
    rows = Notice.select(Notice.key).where(prefixed("done:ws:"))
    return {r.key.removeprefix("done:") for r in rows}


def last_image(host: Host, user: User) -> str | None:
    """The image of the student's newest rental on the host."""
    used = (Rental.select(Rental.image_ref).where((Rental.host == host) & (Rental.user == user))
            .order_by(Rental.id.desc()).first())
    return None if used is None else str(used.image_ref)


CLEARING_STALE = timedelta(hours=3)  # a mark older than this was left by a crash


def _clearing_key(host_id: int, user_id: int) -> str:
    return f"clearing:{host_id}:{user_id}"


def begin_clearing(host: Host, user: User, now: datetime) -> bool:
    """Mark the workspace as being deleted; False if it already is."""
    key = _clearing_key(host.id, user.id)
    Notice.delete().where((Notice.key == key)
                          & (Notice.created_at < to_db(now - CLEARING_STALE))).execute()
    try:
        with db.atomic():
            Notice.create(key=key, created_at=to_db(now), sent_at=to_db(now))
    except IntegrityError:
        return False
    return True


def end_clearing(host: Host, user: User) -> None:
    Notice.delete().where(Notice.key == _clearing_key(host.id, user.id)).execute()


def clearing_hosts(user: User) -> set[str]:
    """Names of the hosts where the student's workspace is being deleted right now."""
    keys = [r.key for r in Notice.select(Notice.key).where(
        prefixed("clearing:") & Notice.key.endswith(f":{user.id}"))]
    ids = [int(k.split(":")[1]) for k in keys if k.count(":") == 2]
    return {h.name for h in Host.select(Host.name).where(Host.id.in_(ids))} if ids else set()
