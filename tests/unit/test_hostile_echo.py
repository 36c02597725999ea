"""Refusals that echo what a student typed render as Telegram HTML that Telegram accepts, and
stay short however long the input was."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.clock import FrozenClock
from bot.config import parse_config
from bot.errors import UserError
from bot.i18n import LANGUAGES
from bot.services import Services
from bot.usecases import request as uc
from handlers import request_views as views
from tests.botemu.html_check import parse_html, utf16_len

CONFIG = parse_config({"rental": {"registry_allow": ["nvcr.io", "docker.io"]}})
HOSTILE = [
    "<b>", "</b>", "<a href='x'>", "&", "&amp;", "&lt;", "<tg-spoiler>", "a<b>c</b>",
    "<" * 4000, "&" * 4000, "x" * 4000, "<b>" + "é" * 3000, "\U0001f600<" * 1500,
]


def rendered(fn: object, *args: object) -> list[str]:
    with pytest.raises(UserError) as caught:
        fn(*args)  # type: ignore[operator]
    return [caught.value.render(lang) for lang in LANGUAGES]


def assert_telegram_accepts(text: str) -> str:
    visible, _ = parse_html(text)  # raises on bad or unbalanced HTML
    assert 0 < utf16_len(visible) <= 4096
    return visible


@pytest.mark.parametrize("text", HOSTILE)
def test_port_refusals_echo_hostile_text_safely(text: str) -> None:
    for message in rendered(uc.check_ports, CONFIG, text):
        visible = assert_telegram_accepts(message)
        first_word = re.split(r"[\s,;]+", text)[0]
        assert first_word[:10] in visible and len(visible) < 300


@pytest.mark.parametrize("text", HOSTILE)
def test_quantity_refusals_render_safely(text: str) -> None:
    for message in rendered(uc.check_quantity, CONFIG, "hour", text):
        assert_telegram_accepts(message)


@pytest.mark.parametrize("prefix", ["", "nvcr.io/", "nvcr.io/x:", "ghcr.io/", "nvcr.io/x@"])
@pytest.mark.parametrize("text", HOSTILE)
def test_image_refusals_echo_hostile_text_safely(prefix: str, text: str) -> None:
    for message in rendered(uc.check_custom_image, CONFIG, prefix + text):
        visible = assert_telegram_accepts(message)
        assert len(visible) < 600


def test_a_foreign_registry_is_named_escaped() -> None:
    for message in rendered(uc.check_custom_image, CONFIG, "a-b.example:5000/x"):
        assert "a-b.example:5000" in assert_telegram_accepts(message)


@pytest.mark.parametrize("purpose", ["<b>" * 166, "&" * 500, "</i>" + "x" * 496])
def test_the_summary_shows_a_hostile_purpose_as_text(purpose: str) -> None:
    svc = Services(CONFIG, FrozenClock(datetime(2026, 11, 28, 8, 0, tzinfo=UTC)))
    draft = uc.Draft(image_key="custom", image_ref="nvcr.io/nvidia/pytorch:23.10-py3",
                     custom=True, gpus=1, unit="hour", quantity=2,
                     purpose=uc.check_purpose(purpose), extra_ports=[6006])
    for lang in LANGUAGES:
        text = views.summary_text(svc.config, lang, draft, svc.clock.now())
        assert purpose in assert_telegram_accepts(text)
