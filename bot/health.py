"""``gpurent health``: is the bot of this machine alive? For Docker's HEALTHCHECK and monitors.

Alive means more than a running process: the scheduler tick renews the database lease
(``models/lease.py``) every minute, so a lease held by this machine and renewed within its TTL
says the event loop turns and the database answers. A bot still trying to reach Telegram
renews nothing and turns unhealthy once the lease it took at start has aged past the TTL.
"""

from __future__ import annotations

from datetime import datetime

from peewee import PeeweeException

from bot.config import Config
from models import lease
from models.db import close_database, open_existing


def check_health(config: Config, now: datetime, hostname: str) -> tuple[bool, str]:
    """(healthy, one line saying why) for the bot on ``hostname`` using ``config``'s database."""
    try:
        open_existing(config.database_url)
        held = lease.current()
    except (OSError, PeeweeException) as exc:
        return False, f"unhealthy: cannot read the database: {exc}"
    finally:
        close_database()
    return verdict(held, now, hostname)


def verdict(held: tuple[str, datetime] | None, now: datetime,
            hostname: str) -> tuple[bool, str]:
    if held is None:
        return False, "unhealthy: no gpurent run holds the database"
    holder, renewed = held
    host = holder.partition(":")[0]
    if host != hostname:
        return False, f"unhealthy: the database is held by {host}, not by this machine"
    age = int((now - renewed).total_seconds())
    if now - renewed > lease.TTL:
        return False, (f"unhealthy: the bot last renewed its lease {age} s ago (its tick is "
                       "stuck, or it is still trying to reach Telegram: see its log)")
    return True, f"healthy: lease renewed {age} s ago"
