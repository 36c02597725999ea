"""Message catalogues, one per language. ``t(lang, key, **values)`` renders one message.

Messages are Telegram HTML. Values that carry user input must be escaped by the caller with
``html.escape`` (use :func:`esc`); numbers and our own formatted strings need not be.
"""

from __future__ import annotations

import html
from typing import Any

from bot.i18n import en, zh

CATALOGUES: dict[str, dict[str, str]] = {"en": en.MESSAGES, "zh": zh.MESSAGES}
LANGUAGES = tuple(CATALOGUES)


def language_for(code: str | None, default: str = "zh") -> str:
    """zh for Telegram language codes starting with zh, English for every other code."""
    if not code:
        return default
    return "zh" if code.lower().startswith("zh") else "en"


def t(lang: str, key: str, **values: Any) -> str:
    catalogue = CATALOGUES.get(lang, CATALOGUES["en"])
    return catalogue[key].format(**values)


def esc(text: object) -> str:
    return html.escape(str(text), quote=False)
