"""Errors the use cases raise for the user's own mistakes: safe to show, already worded."""

from __future__ import annotations

from typing import Any

from bot.i18n import t


class UserError(Exception):
    """A refusal to show the user: a catalogue key plus values, rendered in their language."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def render(self, lang: str) -> str:
        return t(lang, self.key, **self.values)
