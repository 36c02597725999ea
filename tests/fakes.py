"""A recording fake of OUR Notifier port (bot/ports.py), for use-case tests without Telegram.
What it records is what the use cases asked to send; the real Telegram side is tested through
the Bot API emulator."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.ports import Keyboard


@dataclass
class Sent:
    chat_id: int
    text: str
    buttons: Keyboard | None = None
    photo: bytes | None = None

    @property
    def data(self) -> list[str]:
        return [b.data or "" for row in self.buttons or [] for b in row]


@dataclass
class RecordingNotifier:
    sent: list[Sent] = field(default_factory=list)

    async def send(self, chat_id: int, text: str, buttons: Keyboard | None = None,
                   secret: bool = False) -> int | None:
        self.sent.append(Sent(chat_id, text, buttons))
        return len(self.sent)

    async def send_photo(self, chat_id: int, photo: bytes, caption: str,
                         buttons: Keyboard | None = None, secret: bool = False) -> int | None:
        self.sent.append(Sent(chat_id, caption, buttons, photo))
        return len(self.sent)

    async def flush(self) -> int:
        return 0

    async def send_document(self, chat_id: int, data: bytes, filename: str,
                            caption: str = "") -> int | None:
        self.sent.append(Sent(chat_id, caption))
        return len(self.sent)

    async def edit(self, chat_id: int, message_id: int, text: str,
                   buttons: Keyboard | None = None) -> bool:
        return True

    async def delete(self, chat_id: int, message_id: int) -> bool:
        return True

    def to(self, chat_id: int, containing: str = "") -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id and containing in s.text]
