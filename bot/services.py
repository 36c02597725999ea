"""The collaborators every handler and job reaches through ``context.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.config import Config

SERVICES_KEY = "gpurent.services"


@dataclass
class Services:
    config: Config
    clock: Clock
    runtime: Any = None      # bot.ports.ContainerRuntime, wired in bot.app
    notifier: Any = None     # bot.ports.Notifier, wired in bot.app once the Bot exists
    extra: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, telegram_id: int) -> bool:
        return telegram_id in self.config.telegram.admins


def services_of(bot_data: dict[str, Any]) -> Services:
    found = bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
