"""``[lifecycle]``: reminders, retention, usage sampling, daily messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from bot.config.reader import Reader, shown

# Six digits at most: enough for "8760h", and int() never meets a 5000-digit string.
_DURATION = re.compile(r"^([0-9]{1,6})\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION = timedelta(days=365)
MAX_RETENTION_DAYS = 3650
MIN_SAMPLE_EVERY = timedelta(seconds=30)  # each sample reads every host's GPUs
# The workspace helper, pinned: "name@sha256:<digest>" (as pulled) or an image ID "sha256:<id>".
_PINNED = re.compile(r"(?:[a-z0-9][a-z0-9._/:-]{0,254}@)?sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class LifecycleConfig:
    reminders: tuple[timedelta, ...] = (
        timedelta(hours=24), timedelta(hours=3), timedelta(minutes=30))
    container_retention: timedelta = timedelta(days=7)
    container_warnings: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
    workspace_retention: timedelta | None = timedelta(days=30)  # None: keep forever
    workspace_warnings: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=1))
    archive_dir: str = ""  # on each host; "" deletes instead of moving
    # The image that deletes/archives workspaces, present on every host; "": the catalogue's
    # first image (an admin's choice too, but not pinned: `gpurent check` says so).
    helper_image: str = ""
    idle_util_percent: float = 5.0
    idle_memory_percent: float = 10.0
    idle_window: timedelta = timedelta(hours=2)
    sample_every: timedelta = timedelta(minutes=5)
    sample_keep_days: int = 90
    daily_summary: bool = True
    summary_time: time = time(9, 0)
    admin_digest: bool = True
    digest_time: time = time(9, 0)


def _duration(r: Reader, key: str, value: Any) -> timedelta:
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise r.fail(key, f"{shown(value)} is not a duration like \"30m\", \"3h\" or \"7d\"")
    found = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if found > MAX_DURATION:
        raise r.fail(key, f"{value!r} is longer than {MAX_DURATION.days} days")
    return found


def _offsets(r: Reader, key: str, default: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    if key not in r.data:
        return default
    found = tuple(_duration(r, key, v) for v in r.get(key, list))
    if len(set(found)) != len(found):
        raise r.fail(key, "the offsets must be distinct")
    return tuple(sorted(found, reverse=True))


def _clock_time(r: Reader, key: str, default: time) -> time:
    raw = r.get(key, str, default.strftime("%H:%M"))
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw.strip(), re.ASCII)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise r.fail(key, f"{shown(raw)} is not a time of day like \"09:00\"")
    return time(int(match.group(1)), int(match.group(2)))


def _days(r: Reader, key: str, default: int, minimum: int) -> int:
    value = r.get(key, int, default)
    if value < minimum:
        raise r.fail(key, f"must be at least {minimum}")
    if value > MAX_RETENTION_DAYS:
        raise r.fail(key, f"must be at most {MAX_RETENTION_DAYS}")
    return int(value)


def _percent(r: Reader, key: str, default: float) -> float:
    value = r.get(key, (int, float), default)
    if not 0 < value <= 100:  # False for NaN too
        raise r.fail(key, f"{shown(value)} is not a percentage between 0 and 100")
    return float(value)


def _sampling(r: Reader) -> tuple[timedelta, timedelta]:
    sample_every = _duration(r, "sample_every", r.get("sample_every", str, "5m"))
    if sample_every < MIN_SAMPLE_EVERY:
        raise r.fail("sample_every", f"must be at least {MIN_SAMPLE_EVERY.seconds}s")
    idle_window = _duration(r, "idle_window", r.get("idle_window", str, "2h"))
    if idle_window < 2 * sample_every:
        raise r.fail("idle_window", "must be at least two sample_every periods")
    return sample_every, idle_window


def _helper_image(r: Reader) -> str:
    value = r.get("helper_image", str, "").strip()
    if value and not _PINNED.fullmatch(value):
        raise r.fail("helper_image", f"{shown(value)} is not pinned: use \"name@sha256:<digest>\" "
                     "or an image ID \"sha256:<id>\" (docker images --digests shows them)")
    return value


def parse_lifecycle(r: Reader) -> LifecycleConfig:
    base = LifecycleConfig()
    container_days = _days(r, "container_retention_days", 7, 1)
    workspace_days = _days(r, "workspace_retention_days", 30, 0)
    if workspace_days and workspace_days <= container_days:
        raise r.fail("workspace_retention_days", f"must be 0 (keep forever) or more than "
                     f"container_retention_days ({container_days})")
    archive = r.get("archive_dir", str, "")
    if archive and not archive.startswith("/"):
        raise r.fail("archive_dir", f"{archive!r} must be an absolute path on the hosts")
    sample_every, idle_window = _sampling(r)
    return LifecycleConfig(
        reminders=_offsets(r, "reminders", base.reminders),
        container_retention=timedelta(days=container_days),
        container_warnings=_offsets(r, "container_warnings", base.container_warnings),
        workspace_retention=timedelta(days=workspace_days) if workspace_days else None,
        workspace_warnings=_offsets(r, "workspace_warnings", base.workspace_warnings),
        archive_dir=archive.rstrip("/"),
        helper_image=_helper_image(r),
        idle_util_percent=_percent(r, "idle_util_percent", base.idle_util_percent),
        idle_memory_percent=_percent(r, "idle_memory_percent", base.idle_memory_percent),
        idle_window=idle_window, sample_every=sample_every,
        sample_keep_days=_days(r, "sample_keep_days", base.sample_keep_days, 3),
        daily_summary=r.get("daily_summary", bool, True),
        summary_time=_clock_time(r, "summary_time", base.summary_time),
        admin_digest=r.get("admin_digest", bool, True),
        digest_time=_clock_time(r, "digest_time", base.digest_time),
    )
