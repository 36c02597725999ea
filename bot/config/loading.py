"""The whole configuration: ``Config``, read from one TOML file section by section."""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from billing.plans import PriceTable
from bot.config.hosts import (
    DEFAULT_IMAGES,
    HostConfig,
    ImageConfig,
    PrepareConfig,
    parse_host,
    parse_image,
    parse_prepare,
)
from bot.config.lifecycle import LifecycleConfig, parse_lifecycle
from bot.config.prices import BillingConfig, Fees, parse_billing, parse_fees, parse_plans
from bot.config.reader import ConfigError, Reader
from bot.config.rental import RentalConfig, parse_rental
from bot.config.telegram import TelegramConfig, parse_telegram

DEFAULT_DB_URL = "sqlite:///gpurent.db"  # relative to the working directory


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
    billing: BillingConfig = field(default_factory=BillingConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    prepare: PrepareConfig = field(default_factory=PrepareConfig)

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


def _place(root: Reader) -> tuple[str, str]:
    tzname = root.get("timezone", str, "Asia/Shanghai")
    try:
        zoneinfo.ZoneInfo(tzname)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise root.fail("timezone", f"{tzname!r} is not a known time zone") from None
    language = root.get("language", str, "zh")
    if language not in ("zh", "en"):
        raise root.fail("language", f"{language!r}: expected \"zh\" or \"en\"")
    return tzname, language


def _hosts_and_images(root: Reader) -> tuple[tuple[HostConfig, ...], tuple[ImageConfig, ...]]:
    hosts = tuple(parse_host(r) for r in root.items("hosts")) or (HostConfig(name="local"),)
    if len({h.name for h in hosts}) != len(hosts):
        raise root.fail("hosts", "host names must be unique")
    images = tuple(parse_image(r) for r in root.items("images")) or DEFAULT_IMAGES
    if len({i.key for i in images}) != len(images):
        raise root.fail("images", "image keys must be unique")
    return hosts, images


def parse_config(data: dict[str, Any], path: str = "<config>") -> Config:
    root = Reader(path, data)
    tzname, language = _place(root)
    hosts, images = _hosts_and_images(root)
    prices = parse_plans(root)
    return Config(
        path=path, timezone=tzname, language=language,
        telegram=parse_telegram(root.sub("telegram")),
        database_url=root.sub("database").get("url", str, DEFAULT_DB_URL),
        hosts=hosts, images=images, prices=prices, fees=parse_fees(root.sub("fees")),
        rental=parse_rental(root.sub("rental"), prices),
        billing=parse_billing(root.sub("billing")),
        lifecycle=parse_lifecycle(root.sub("lifecycle")),
        prepare=parse_prepare(root.sub("prepare")),
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
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise ConfigError(f"{name}: not valid TOML: {str(exc)[:80]}") from None
    return parse_config(data, name)
