"""Configuration: one TOML file, checked key by key so a typo never reaches run time.

Errors name the file, the key and what is wrong, e.g.
``gpurent.toml: hosts[1].port_range: 70000 is not a port``. One module per section:
``telegram``, ``hosts`` (and images, prepare), ``rental``, ``prices`` (plans, fees, billing),
``lifecycle``; ``loading`` puts them together; ``reader`` holds the key-by-key checks.
"""

from __future__ import annotations

from bot.config.hosts import (
    DEFAULT_DOCKER_URL,
    DEFAULT_IMAGES,
    HostConfig,
    ImageConfig,
    PrepareConfig,
)
from bot.config.lifecycle import LifecycleConfig
from bot.config.loading import DEFAULT_DB_URL, Config, load_config, parse_config
from bot.config.prices import BillingConfig, Fees
from bot.config.reader import ConfigError
from bot.config.rental import RentalConfig
from bot.config.telegram import TelegramConfig

__all__ = [
    "DEFAULT_DB_URL", "DEFAULT_DOCKER_URL", "DEFAULT_IMAGES", "BillingConfig", "Config",
    "ConfigError", "Fees", "HostConfig", "ImageConfig", "LifecycleConfig", "PrepareConfig",
    "RentalConfig", "TelegramConfig", "load_config", "parse_config",
]
