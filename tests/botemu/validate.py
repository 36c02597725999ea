"""What Telegram checks before it accepts a text, a caption, a keyboard or a command list."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from .html_check import HtmlError, parse_html, utf16_len
from .models import Button, JsonDict, bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
ANSWER_TEXT_LIMIT = 200
BUTTON_ACTIONS = (
    "callback_data", "url", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "callback_game", "pay", "web_app", "copy_text",
)  # fmt: skip
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def render_text(
    raw: str | None, parse_mode: str | None, entities: Any, *, caption: bool = False
) -> tuple[str, list[JsonDict]]:
    """The visible text and its entities, refused as Telegram refuses them."""
    text, found = _parse(raw or "", parse_mode)
    if isinstance(entities, list):
        found = entities
    text, found = _strip(text, found)
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if len(text) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    if not text and not caption:
        raise bad_request("message text is empty")
    return text, found


def _parse(raw: str, parse_mode: str | None) -> tuple[str, list[JsonDict]]:
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            return parse_html(raw)
        except HtmlError as err:
            raise bad_request(f"can't parse entities: {err}") from None
    if mode in ("", "markdown", "markdownv2"):  # Markdown is passed through unchecked
        return raw, []
    raise bad_request("unsupported parse_mode")


def _strip(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Telegram trims surrounding whitespace and moves the entities with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    end = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(int(entity["offset"]) - shift, 0)
        stop = min(int(entity["offset"]) + int(entity["length"]) - shift, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


def parse_markup(raw: Any) -> tuple[JsonDict | None, list[list[Button]]]:
    """The markup as Telegram would echo it, and the inline keyboard as rows of buttons."""
    if raw is None:
        return None, []
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    keyboard = raw.get("inline_keyboard")
    if keyboard is None:
        return raw, []  # reply keyboards, force_reply, remove_keyboard: kept, not echoed
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request('can\'t parse inline keyboard: field "inline_keyboard" must be an Array')
    rows = [[_button(item) for item in row] for row in keyboard]
    return raw, rows


def _button(item: Any) -> Button:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [name for name in BUTTON_ACTIONS if name in item]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = item.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
        raise bad_request("BUTTON_DATA_INVALID")
    url = item.get("url")
    if url is not None:
        check_url(str(url))
    return Button(item["text"], None if data is None else str(data), url)


def check_url(url: str) -> None:
    """Telegram wants a public-looking URL on a button: no ``localhost``, no bare host names."""
    parts = urlsplit(url)
    if parts.scheme in ("tg", "ton"):
        return
    host = parts.hostname or ""
    public = host != "localhost" and ("." in host or _is_ip(host))
    if parts.scheme in ("http", "https") and public:
        return
    raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_commands(commands: Any) -> list[tuple[str, str]]:
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    checked = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = str(item.get("command", "")), str(item.get("description", ""))
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("command description is empty or too long")
        checked.append((command, description))
    return checked


def check_answer_text(text: str | None) -> None:
    if text is not None and len(text) > ANSWER_TEXT_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
