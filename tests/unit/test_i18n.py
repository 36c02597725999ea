"""Both catalogues are complete: same keys, same placeholders, valid Telegram HTML tags."""

from __future__ import annotations

import re
import string

import pytest

from bot.i18n import CATALOGUES, language_for, t

ALLOWED_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "tg-spoiler", "blockquote"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_exists_in_both_languages() -> None:
    assert set(CATALOGUES["en"]) == set(CATALOGUES["zh"])


@pytest.mark.parametrize("key", sorted(CATALOGUES["en"]))
def test_placeholders_match_between_languages(key: str) -> None:
    assert placeholders(CATALOGUES["en"][key]) == placeholders(CATALOGUES["zh"][key]), key


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_messages_use_only_telegram_tags_and_balance_them(lang: str) -> None:
    for key, text in CATALOGUES[lang].items():
        tags = re.findall(r"<(/?)([a-z-]+)[^>]*>", text)
        assert {name for _, name in tags} <= ALLOWED_TAGS, key
        depth: list[str] = []
        for closing, name in tags:
            if closing:
                assert depth and depth.pop() == name, key
            else:
                depth.append(name)
        assert not depth, key


@pytest.mark.parametrize(("code", "expected"), [
    ("zh-hans", "zh"), ("zh-TW", "zh"), ("zh", "zh"), ("en", "en"), ("ru", "en"),
    ("de-DE", "en"), (None, "zh"), ("", "zh"),
])
def test_language_follows_telegram_language_code(code: str | None, expected: str) -> None:
    assert language_for(code, default="zh") == expected


def test_render_fills_values() -> None:
    assert "R7" in t("en", "req_submitted", ref="R7")
    assert "R7" in t("zh", "req_submitted", ref="R7")
