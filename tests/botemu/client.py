"""The test's side of the chat: users who write to the bot and press its buttons, and groups."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .html_check import utf16_len
from .models import ApiError, BotMessage, Button, CallbackAnswer, JsonDict, UserMessage

if TYPE_CHECKING:
    from .state import EmulatorState

Predicate = Callable[[BotMessage], bool]
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class EmuChat:
    """A chat the bot writes to; ``messages`` are the bot's, in the order sent."""

    type = "private"

    def __init__(self, emu: EmulatorState, chat_id: int) -> None:
        self.emu = emu
        self.id = chat_id
        self.messages: list[BotMessage] = []
        self.history: list[BotMessage | UserMessage] = []
        self._last_message_id = 0

    def api_chat(self) -> JsonDict:
        raise NotImplementedError

    def can_receive(self) -> None:
        """Raise the ApiError Telegram gives when the bot may not write here."""

    def next_message_id(self) -> int:
        self._last_message_id += 1
        return self._last_message_id

    def find(self, message_id: int) -> BotMessage | UserMessage | None:
        return next((m for m in self.history if m.message_id == message_id), None)

    async def wait_message(
        self,
        contains: str | None = None,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        after: BotMessage | UserMessage | int | None = None,
    ) -> BotMessage:
        """The first bot message, new or edited since ``after``, that matches; else fail."""
        since = self._seq_of(after)

        def first() -> BotMessage | None:
            for message in self.messages:
                fresh = not message.deleted and message.updated_seq > since
                fits = contains is None or contains in message.content
                if fresh and fits and (predicate is None or predicate(message)):
                    return message
            return None

        if await self.emu.notifier.wait_for(lambda: first() is not None, timeout):
            found = first()
            assert found is not None
            return found
        wanted = f"contains={contains!r}" + (" and a predicate" if predicate else "")
        raise AssertionError(f"no bot message with {wanted} within {timeout}s\n{self.describe()}")

    def _seq_of(self, after: BotMessage | UserMessage | int | None) -> int:
        if after is None:
            return 0
        if isinstance(after, int):
            message = self.find(after)
            if message is None:
                raise ValueError(f"no message #{after} in chat {self.id}")
            return message.seq
        return after.seq

    def describe(self) -> str:
        lines = [f"chat {self.id} holds:"]
        for message in self.history:
            if isinstance(message, BotMessage):
                lines.append(f"  {message.describe()}")
            else:
                lines.append(f"  #{message.message_id} user {message.user_id}: {message.text!r}")
        if len(lines) == 1:
            lines.append("  (nothing)")
        refused = [f"  {e.method}: {e.description}" for e in self.emu.errors]
        return "\n".join(lines + (["refused API calls:", *refused] if refused else []))


class EmuUser(EmuChat):
    """A Telegram user, and the private chat between that user and the bot (same id)."""

    def __init__(
        self,
        emu: EmulatorState,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = None,
        last_name: str | None = None,
        started: bool = False,
    ) -> None:
        super().__init__(emu, user_id)
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = started
        self.blocked = False

    def api_user(self) -> JsonDict:
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                user[key] = getattr(self, key)
        return user

    def api_chat(self) -> JsonDict:
        chat: JsonDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key) is not None:
                chat[key] = getattr(self, key)
        return chat

    def can_receive(self) -> None:
        if self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not self.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def block(self) -> None:
        self.blocked = True

    async def send(self, text: str, reply_to: BotMessage | None = None) -> UserMessage:
        """Write to the bot in private; this counts as having started the bot."""
        self.started = True
        self.blocked = False
        return self.emu.user_message(self, self, text, reply_to)

    async def send_to(
        self, group: EmuGroup, text: str, reply_to: BotMessage | None = None
    ) -> UserMessage:
        group.members.setdefault(self.id, "member")
        return self.emu.user_message(self, group, text, reply_to)

    async def press(
        self, message: BotMessage, button: str, timeout: float = 5.0
    ) -> CallbackAnswer | None:
        """Press an inline button; returns the bot's answer, or None if none came in time."""
        if message.deleted:
            raise AssertionError(f"message #{message.message_id} was deleted: {message.describe()}")
        data = find_button(message, button).callback_data
        if data is None:
            raise AssertionError(
                f"button {button!r} carries no callback_data: {message.describe()}"
            )
        query_id = self.emu.callback_query(self, message, data)
        emu = self.emu
        await emu.notifier.wait_for(lambda: emu.answer_to(query_id) is not None, timeout)
        return emu.answer_to(query_id)


class EmuGroup(EmuChat):
    def __init__(
        self,
        emu: EmulatorState,
        chat_id: int,
        title: str,
        members: Iterable[EmuUser] = (),
        admins: Iterable[EmuUser] = (),
        chat_type: str | None = None,
    ) -> None:
        super().__init__(emu, chat_id)
        self.title = title
        self.type = chat_type or ("supergroup" if chat_id < -1_000_000_000_000 else "group")
        self.members: dict[int, str] = {user.id: "member" for user in members}
        self.members.update({user.id: "administrator" for user in admins})

    def api_chat(self) -> JsonDict:
        return {"id": self.id, "type": self.type, "title": self.title}


def find_button(message: BotMessage, text: str) -> Button:
    buttons = [button for row in message.reply_markup for button in row]
    exact = [button for button in buttons if button.text == text]
    if exact:
        return exact[0]
    partial = [button for button in buttons if text in button.text]
    if len(partial) == 1:
        return partial[0]
    problem = "is ambiguous" if partial else "matches no button"
    raise AssertionError(f"{text!r} {problem}; the message offers {message.buttons()}")


def command_entities(text: str) -> list[JsonDict]:
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group(0)),
        }
        for match in _COMMAND.finditer(text)
    ]
