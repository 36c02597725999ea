"""`gpurent health` (the image's HEALTHCHECK): healthy only while this machine's bot renews its
database lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config, parse_config
from bot.health import check_health
from models import lease
from models.db import close_database

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def config_for(url: str) -> Config:
    return parse_config({"database": {"url": url}}, "health-test.toml")


def test_a_bot_renewing_its_lease_on_this_machine_is_healthy(database: str) -> None:
    lease.take("hpc1:100:a", NOW)
    lease.renew("hpc1:100:a", NOW + timedelta(minutes=5))
    ok, line = check_health(config_for(database), NOW + timedelta(minutes=6), "hpc1")
    assert ok, line
    assert line == "healthy: lease renewed 60 s ago"


def test_a_lease_not_renewed_within_its_ttl_is_unhealthy(database: str) -> None:
    lease.take("hpc1:100:a", NOW)
    ok, line = check_health(config_for(database), NOW + lease.TTL + timedelta(seconds=1), "hpc1")
    assert not ok
    assert "last renewed its lease 181 s ago" in line


def test_a_lease_held_by_another_machine_is_not_this_bot(database: str) -> None:
    lease.take("hpc2:100:a", NOW)
    ok, line = check_health(config_for(database), NOW, "hpc1")
    assert not ok
    assert "held by hpc2" in line


def test_no_lease_or_no_database_is_unhealthy(database: str, tmp_path: Path) -> None:
    ok, line = check_health(config_for(database), NOW, "hpc1")
    assert (ok, line) == (False, "unhealthy: no gpurent run holds the database")
    close_database()
    missing = tmp_path / "nothing" / "gpurent.db"
    ok, line = check_health(config_for(f"sqlite:///{missing}"), NOW, "hpc1")
    assert not ok and "does not exist yet" in line
    assert not missing.parent.exists()  # a health check creates nothing
