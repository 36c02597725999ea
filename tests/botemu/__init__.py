"""A local Telegram Bot API emulator that the real bot reaches over HTTP (see server.py)."""

from __future__ import annotations

from .client import EmuChat, EmuGroup, EmuUser
from .models import BotMessage, Button, CallbackAnswer, RefusedCall, StoredFile, UserMessage
from .server import BotApiEmulator

__all__ = [
    "BotApiEmulator",
    "BotMessage",
    "Button",
    "CallbackAnswer",
    "EmuChat",
    "EmuGroup",
    "EmuUser",
    "RefusedCall",
    "StoredFile",
    "UserMessage",
]
