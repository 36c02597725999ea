"""The small interfaces the use cases talk to. Implementations live at the edges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None  # callback data, at most 64 bytes
    url: str | None = None


Keyboard = list[list[Button]]


class Notifier(Protocol):
    """Sends Telegram HTML to chats. Returns message ids, or None when the chat is unreachable
    (the user blocked the bot or never started it): that is logged, never raised."""

    async def send(self, chat_id: int, text: str, buttons: Keyboard | None = None) -> int | None:
        ...

    async def send_photo(self, chat_id: int, photo: bytes, caption: str,
                         buttons: Keyboard | None = None) -> int | None: ...

    async def send_document(self, chat_id: int, data: bytes, filename: str,
                            caption: str = "") -> int | None: ...

    async def edit(self, chat_id: int, message_id: int, text: str,
                   buttons: Keyboard | None = None) -> bool: ...

    async def delete(self, chat_id: int, message_id: int) -> bool: ...
