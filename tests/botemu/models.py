"""Plain records the emulator keeps: messages, buttons, files, answers, refused calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


class ApiError(Exception):
    """A refusal, answered as Telegram would: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class RefusedCall:
    method: str
    error_code: int
    description: str
    params: JsonDict = field(default_factory=dict)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None = None
    mime_type: str | None = None
    url: str | None = None

    def api_file(self) -> JsonDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class CallbackAnswer:
    query_id: str
    user_id: int
    data: str
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass
class UserMessage:
    """A message a test user sent (to the bot's private chat or to a group)."""

    message_id: int
    chat_id: int
    user_id: int
    seq: int
    text: str
    deleted: bool = False


@dataclass
class BotMessage:
    """A message the bot sent; it always holds the current state (after edits)."""

    message_id: int
    chat_id: int
    date: int
    seq: int
    updated_seq: int
    kind: str = "text"  # text | photo | document
    text: str | None = None
    caption: str | None = None
    raw_text: str | None = None  # text or caption as sent, before entity parsing
    parse_mode: str | None = None
    entities: list[JsonDict] = field(default_factory=list)
    markup_raw: JsonDict | None = None
    reply_markup: list[list[Button]] = field(default_factory=list)
    file: StoredFile | None = None
    deleted: bool = False
    edit_date: int | None = None
    history: list[JsonDict] = field(default_factory=list)

    @property
    def content(self) -> str:
        """The visible text, or the caption of a photo or document."""
        return (self.text if self.kind == "text" else self.caption) or ""

    @property
    def photo(self) -> bytes | None:
        return self.file.data if self.file and self.kind == "photo" else None

    @property
    def document(self) -> bytes | None:
        return self.file.data if self.file and self.kind == "document" else None

    @property
    def filename(self) -> str | None:
        return self.file.filename if self.file else None

    def buttons(self) -> list[str]:
        return [button.text for row in self.reply_markup for button in row]

    def snapshot(self) -> JsonDict:
        return {
            "text": self.text,
            "caption": self.caption,
            "entities": self.entities,
            "reply_markup": self.markup_raw,
            "edit_date": self.edit_date,
        }

    def to_api(self, chat: JsonDict, bot: JsonDict) -> JsonDict:
        result: JsonDict = {"message_id": self.message_id, "from": bot, "chat": chat}
        result["date"] = self.date
        if self.edit_date is not None:
            result["edit_date"] = self.edit_date
        key = "entities" if self.kind == "text" else "caption_entities"
        body = self.text if self.kind == "text" else self.caption
        if body is not None:
            result["text" if self.kind == "text" else "caption"] = body
            if self.entities:
                result[key] = self.entities
        if self.file is not None:
            result.update(self._api_media(self.file))
        if self.markup_raw and "inline_keyboard" in self.markup_raw:
            result["reply_markup"] = self.markup_raw
        return result

    def _api_media(self, file: StoredFile) -> JsonDict:
        if self.kind == "photo":
            width, height = png_size(file.data)
            return {"photo": [{**_sized(file), "width": width, "height": height}]}
        document = {**_sized(file), "file_name": file.filename or "file"}
        if file.mime_type:
            document["mime_type"] = file.mime_type
        return {"document": document}

    def describe(self) -> str:
        state = " (deleted)" if self.deleted else ""
        edits = f" (edited {len(self.history)}x)" if self.history else ""
        buttons = f" buttons={self.buttons()}" if self.reply_markup else ""
        media = f" [{self.kind}]" if self.kind != "text" else ""
        return f"#{self.message_id} bot{media}: {self.content[:160]!r}{buttons}{edits}{state}"


def _sized(file: StoredFile) -> JsonDict:
    return {
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": len(file.data),
    }


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG header; (1, 1) for anything else (PTB only needs ints)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 1, 1


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class Notifier:
    """Wakes every waiter on each change; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), left)
            except TimeoutError:
                return predicate()
        return True
