"""Configuration: one TOML file, checked key by key so a typo never reaches run time.

Errors name the file, the key and what is wrong, e.g.
``gpurent.toml: hosts[1].port_range: 70000 is not a port``.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from billing.money import MoneyError, parse_money
from billing.plans import UNITS, Plan, PlanError, PriceTable

DEFAULT_DB_URL = "sqlite:///gpurent.db"  # relative to the working directory
DEFAULT_DOCKER_URL = "unix:///var/run/docker.sock"
_SIZE = re.compile(r"^\d+[bkmg]?$", re.IGNORECASE)


class ConfigError(Exception):
    """A problem in the configuration, worded for the admin who wrote it."""


@dataclass(frozen=True)
class HostConfig:
    name: str
    docker_url: str = DEFAULT_DOCKER_URL
    public_address: str = "127.0.0.1"
    gpus: tuple[str, ...] | None = None  # None = read the GPUs through NVML
    port_range: tuple[int, int] = (20000, 20999)
    workspace_root: str = "/data/workspaces"
    memory_per_gpu: str | None = None
    cpus_per_gpu: float | None = None
    shm_size: str | None = "16g"
    memlock: int = -1  # bytes; -1 = unlimited, as NVIDIA recommends for its images
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None


@dataclass(frozen=True)
class ImageConfig:
    key: str
    name: str
    ref: str


DEFAULT_IMAGES = (
    ImageConfig("pytorch", "PyTorch (NGC 20.12)", "nvcr.io/nvidia/pytorch:20.12-py3"),
    ImageConfig("tf2", "TensorFlow 2 (NGC 20.12)", "nvcr.io/nvidia/tensorflow:20.12-tf2-py3"),
    ImageConfig("tf1", "TensorFlow 1 (NGC 20.12)", "nvcr.io/nvidia/tensorflow:20.12-tf1-py3"),
)


@dataclass(frozen=True)
class TelegramConfig:
    token_env: str = "GPURENT_BOT_TOKEN"  # noqa: S105 - the variable's name, not a token
    token_file: str | None = None
    api_base_url: str = ""
    api_file_url: str = ""
    admins: tuple[int, ...] = ()
    admin_chat: int = 0


@dataclass(frozen=True)
class RentalConfig:
    max_live_per_student: int = 2
    max_extra_ports: int = 3
    ready_timeout_s: float = 120.0
    password_message_ttl_h: float = 24.0
    registry_allow: tuple[str, ...] = ("nvcr.io", "docker.io")
    max_quantity: dict[str, int] = field(
        default_factory=lambda: {"hour": 72, "day": 60, "week": 12, "month": 12}
    )
    maintenance: bool = False


@dataclass(frozen=True)
class BillingConfig:
    collect: str = "after"           # "before": pay before provisioning; "after": remind
    refund: str = "none"             # "none" | "pro_rata_days" on early release
    currency: str = "CNY"
    # What the payment QR encodes: a collection link or text with {amount} and {reference}.
    payment_payload: str = "gpurent payment {reference}: {amount}"
    payment_note: str = ""           # shown under the QR (e.g. "WeChat Pay to the lab account")


@dataclass(frozen=True)
class Fees:
    image_change: int = 3000
    port_change: int = 3000


@dataclass(frozen=True)
class LifecycleConfig:
    reminders: tuple[timedelta, ...] = (
        timedelta(hours=24), timedelta(hours=3), timedelta(minutes=30))
    container_retention: timedelta = timedelta(days=7)
    container_warnings: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
    workspace_retention: timedelta | None = timedelta(days=30)  # None: keep forever
    workspace_warnings: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=1))
    archive_dir: str = ""  # on each host; "" deletes instead of moving
    idle_util_percent: float = 5.0
    idle_memory_percent: float = 10.0
    idle_window: timedelta = timedelta(hours=2)
    sample_every: timedelta = timedelta(minutes=5)
    sample_keep_days: int = 90
    daily_summary: bool = True
    summary_time: time = time(9, 0)
    admin_digest: bool = True
    digest_time: time = time(9, 0)


@dataclass(frozen=True)
class Config:
    path: str
    timezone: str
    language: str
    telegram: TelegramConfig
    database_url: str
    hosts: tuple[HostConfig, ...]
    images: tuple[ImageConfig, ...]
    prices: PriceTable
    fees: Fees
    rental: RentalConfig
    billing: BillingConfig = BillingConfig()
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def lab_time(self, when: datetime) -> str:
        """How every date is shown to people: lab time, to the minute."""
        return when.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def host(self, name: str) -> HostConfig:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def image(self, key: str) -> ImageConfig | None:
        return next((i for i in self.images if i.key == key), None)

    def bot_token(self) -> str:
        """The bot token, from the environment or a file; never from the config itself."""
        tg = self.telegram
        if tg.token_file:
            try:
                token = Path(tg.token_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"{self.path}: telegram.token_file: cannot read {tg.token_file}: "
                    f"{exc.strerror}"
                ) from None
        else:
            token = os.environ.get(tg.token_env, "").strip()
        if not token:
            raise ConfigError(
                f"no bot token: set the environment variable {tg.token_env} "
                f"(or telegram.token_file in {self.path})"
            )
        return token


class _Reader:
    """Pulls typed values out of a TOML table and words errors with their key path."""

    def __init__(self, path: str, data: dict[str, Any], prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {what}")

    def sub(self, key: str) -> _Reader:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return _Reader(self.path, value, f"{self.prefix}{key}.")

    def items(self, key: str) -> list[_Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a list of tables ([[" + key + "]])")
        return [_Reader(self.path, v, f"{self.prefix}{key}[{i}].") for i, v in enumerate(value)]

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        return value

    def need(self, key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in self.data:
            raise self.fail(key, "is required")
        return self.get(key, kind)

    def money(self, key: str, default: str) -> int:
        raw = self.get(key, (str, int, float), default)
        try:
            return parse_money(str(raw))
        except MoneyError as exc:
            raise self.fail(key, str(exc)) from None


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _port(r: _Reader, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise r.fail(key, f"{value!r} is not a port")
    return value


def _size(r: _Reader, key: str) -> str | None:
    value = r.get(key, str)
    if value is not None and not _SIZE.match(value):
        raise r.fail(key, f"{value!r} is not a size like '28g' or '512m'")
    return value


def _host(r: _Reader) -> HostConfig:
    name = r.need("name", str)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", name):
        raise r.fail("name", f"{name!r}: use letters, digits, '.', '_' or '-' (max 32)")
    url = r.get("docker_url", str, DEFAULT_DOCKER_URL)
    if not url.startswith(("unix://", "tcp://", "ssh://", "http://", "https://")):
        raise r.fail("docker_url", f"{url!r}: expected unix://, tcp:// or ssh://")
    gpus_raw = r.get("gpus", (str, list), "nvml")
    if isinstance(gpus_raw, str):
        if gpus_raw != "nvml":
            raise r.fail("gpus", f"{gpus_raw!r}: expected \"nvml\" or a list like [\"0\", \"1\"]")
        gpus = None
    else:
        gpus = tuple(str(g) for g in gpus_raw)
        if len(set(gpus)) != len(gpus) or not all(g.isdigit() for g in gpus):
            raise r.fail("gpus", f"{gpus_raw!r}: GPU ids must be distinct numbers like \"0\"")
    pr = r.get("port_range", list, [20000, 20999])
    if len(pr) != 2:
        raise r.fail("port_range", "expected two ports [first, last]")
    lo, hi = _port(r, "port_range", pr[0]), _port(r, "port_range", pr[1])
    if lo > hi or lo < 1024:
        raise r.fail("port_range", f"[{lo}, {hi}] must be ascending and above 1023")
    cpus = r.get("cpus_per_gpu", (int, float))
    if cpus is not None and cpus <= 0:
        raise r.fail("cpus_per_gpu", "must be positive")
    return HostConfig(
        memlock=_memlock(r),
        name=name, docker_url=url, public_address=r.get("public_address", str, "127.0.0.1"),
        gpus=gpus, port_range=(lo, hi),
        workspace_root=r.get("workspace_root", str, "/data/workspaces"),
        memory_per_gpu=_size(r, "memory_per_gpu"), cpus_per_gpu=cpus,
        shm_size=_size(r, "shm_size") if "shm_size" in r.data else "16g",
        tls_ca=r.get("tls_ca", str), tls_cert=r.get("tls_cert", str), tls_key=r.get("tls_key", str),
    )


def _memlock(r: _Reader) -> int:
    value = r.get("memlock", (str, int), "unlimited")
    if value == "unlimited":
        return -1
    if isinstance(value, int) and (value > 0 or value == -1):
        return value
    raise r.fail("memlock", f"{value!r}: expected \"unlimited\" or a number of bytes")


def _image(r: _Reader) -> ImageConfig:
    key = r.need("key", str)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,15}", key):
        raise r.fail("key", f"{key!r}: lowercase letters, digits, '-', '_' (max 16)")
    return ImageConfig(key=key, name=r.get("name", str, key), ref=r.need("ref", str))


def _plans(root: _Reader) -> PriceTable:
    plans: list[Plan] = []
    for r in root.items("plans"):
        unit = r.need("unit", str)
        if unit not in UNITS:
            raise r.fail("unit", f"{unit!r}: expected one of {', '.join(UNITS)}")
        gpus = r.need("gpus", int)
        if gpus < 1:
            raise r.fail("gpus", "must be at least 1")
        plans.append(Plan(gpus=gpus, unit=unit, price=r.money("price", "0")))
    billing = root.sub("billing")
    try:
        if not plans:
            from billing.plans import default_lab_table

            return default_lab_table()
        return PriceTable(plans, week_days=billing.get("week_days", int, 7),
                          month_days=billing.get("month_days", int, 30))
    except PlanError as exc:
        raise root.fail("plans", str(exc)) from None


def _telegram(r: _Reader) -> TelegramConfig:
    admins = r.get("admins", list, [])
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in admins):
        raise r.fail("admins", "expected a list of numeric Telegram user ids")
    if "token" in r.data:
        raise r.fail("token", "do not put the token in the file; use token_env or token_file")
    return TelegramConfig(
        token_env=r.get("token_env", str, "GPURENT_BOT_TOKEN"),
        token_file=r.get("token_file", str), api_base_url=r.get("api_base_url", str, ""),
        api_file_url=r.get("api_file_url", str, ""), admins=tuple(admins),
        admin_chat=r.get("admin_chat", int, 0),
    )


def _rental(r: _Reader) -> RentalConfig:
    base = RentalConfig()
    maxq = dict(base.max_quantity)
    for unit, value in r.sub("max_quantity").data.items():
        if unit not in UNITS or not isinstance(value, int) or value < 1:
            raise r.fail(f"max_quantity.{unit}", "expected a positive whole number per unit")
        maxq[unit] = value
    limit = r.get("max_live_per_student", int, base.max_live_per_student)
    if limit < 1:
        raise r.fail("max_live_per_student", "must be at least 1")
    return RentalConfig(
        max_live_per_student=limit,
        max_extra_ports=r.get("max_extra_ports", int, base.max_extra_ports),
        ready_timeout_s=float(r.get("ready_timeout_s", (int, float), base.ready_timeout_s)),
        password_message_ttl_h=float(
            r.get("password_message_ttl_h", (int, float), base.password_message_ttl_h)),
        registry_allow=tuple(r.get("registry_allow", list, list(base.registry_allow))),
        max_quantity=maxq, maintenance=r.get("maintenance", bool, False),
    )


def _billing(r: _Reader) -> BillingConfig:
    base = BillingConfig()
    collect = r.get("collect", str, base.collect)
    if collect not in ("before", "after"):
        raise r.fail("collect", f"{collect!r}: expected \"before\" or \"after\"")
    refund = r.get("refund", str, base.refund)
    if refund not in ("none", "pro_rata_days"):
        raise r.fail("refund", f"{refund!r}: expected \"none\" or \"pro_rata_days\"")
    payload = r.get("payment_payload", str, base.payment_payload)
    try:
        payload.format(amount="1.00", reference="X")
    except (KeyError, IndexError, ValueError):
        raise r.fail("payment_payload",
                     "only the placeholders {amount} and {reference} are allowed") from None
    return BillingConfig(collect=collect, refund=refund, payment_payload=payload,
                         currency=r.get("currency", str, base.currency),
                         payment_note=r.get("payment_note", str, base.payment_note))


def parse_config(data: dict[str, Any], path: str = "<config>") -> Config:
    root = _Reader(path, data)
    tzname = root.get("timezone", str, "Asia/Shanghai")
    try:
        zoneinfo.ZoneInfo(tzname)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise root.fail("timezone", f"{tzname!r} is not a known time zone") from None
    language = root.get("language", str, "zh")
    if language not in ("zh", "en"):
        raise root.fail("language", f"{language!r}: expected \"zh\" or \"en\"")
    hosts = tuple(_host(r) for r in root.items("hosts"))
    if not hosts:
        hosts = (HostConfig(name="local"),)
    if len({h.name for h in hosts}) != len(hosts):
        raise root.fail("hosts", "host names must be unique")
    images = tuple(_image(r) for r in root.items("images")) or DEFAULT_IMAGES
    if len({i.key for i in images}) != len(images):
        raise root.fail("images", "image keys must be unique")
    fees = root.sub("fees")
    return Config(
        path=path, timezone=tzname, language=language, telegram=_telegram(root.sub("telegram")),
        database_url=root.sub("database").get("url", str, DEFAULT_DB_URL),
        hosts=hosts, images=images, prices=_plans(root),
        fees=Fees(image_change=fees.money("image_change", "30.00"),
                  port_change=fees.money("port_change", "30.00")),
        rental=_rental(root.sub("rental")), billing=_billing(root.sub("billing")),
        lifecycle=_lifecycle(root.sub("lifecycle")),
    )


def load_config(path: str | os.PathLike[str]) -> Config:
    name = str(path)
    try:
        raw = Path(name).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    return parse_config(data, name)


# --- [lifecycle]: reminders, retention, usage sampling, daily messages ---

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(r: _Reader, key: str, value: Any) -> timedelta:
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise r.fail(key, f"{value!r} is not a duration like \"30m\", \"3h\" or \"7d\"")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _offsets(r: _Reader, key: str, default: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    if key not in r.data:
        return default
    found = tuple(_duration(r, key, v) for v in r.get(key, list))
    if len(set(found)) != len(found):
        raise r.fail(key, "the offsets must be distinct")
    return tuple(sorted(found, reverse=True))


def _clock_time(r: _Reader, key: str, default: time) -> time:
    raw = r.get(key, str, default.strftime("%H:%M"))
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise r.fail(key, f"{raw!r} is not a time of day like \"09:00\"")
    return time(int(match.group(1)), int(match.group(2)))


def _days(r: _Reader, key: str, default: int, minimum: int) -> int:
    value = r.get(key, int, default)
    if value < minimum:
        raise r.fail(key, f"must be at least {minimum}")
    return int(value)


def _percent(r: _Reader, key: str, default: float) -> float:
    value = float(r.get(key, (int, float), default))
    if not 0 < value <= 100:
        raise r.fail(key, f"{value:g} is not a percentage between 0 and 100")
    return value


def _lifecycle(r: _Reader) -> LifecycleConfig:
    base = LifecycleConfig()
    container_days = _days(r, "container_retention_days", 7, 1)
    workspace_days = _days(r, "workspace_retention_days", 30, 0)
    if workspace_days and workspace_days <= container_days:
        raise r.fail("workspace_retention_days", f"must be 0 (keep forever) or more than "
                     f"container_retention_days ({container_days})")
    archive = r.get("archive_dir", str, "")
    if archive and not archive.startswith("/"):
        raise r.fail("archive_dir", f"{archive!r} must be an absolute path on the hosts")
    sample_every = _duration(r, "sample_every", r.get("sample_every", str, "5m"))
    idle_window = _duration(r, "idle_window", r.get("idle_window", str, "2h"))
    if idle_window < 2 * sample_every:
        raise r.fail("idle_window", "must be at least two sample_every periods")
    return LifecycleConfig(
        reminders=_offsets(r, "reminders", base.reminders),
        container_retention=timedelta(days=container_days),
        container_warnings=_offsets(r, "container_warnings", base.container_warnings),
        workspace_retention=timedelta(days=workspace_days) if workspace_days else None,
        workspace_warnings=_offsets(r, "workspace_warnings", base.workspace_warnings),
        archive_dir=archive.rstrip("/"),
        idle_util_percent=_percent(r, "idle_util_percent", base.idle_util_percent),
        idle_memory_percent=_percent(r, "idle_memory_percent", base.idle_memory_percent),
        idle_window=idle_window, sample_every=sample_every,
        sample_keep_days=_days(r, "sample_keep_days", base.sample_keep_days, 3),
        daily_summary=r.get("daily_summary", bool, True),
        summary_time=_clock_time(r, "summary_time", base.summary_time),
        admin_digest=r.get("admin_digest", bool, True),
        digest_time=_clock_time(r, "digest_time", base.digest_time),
    )
