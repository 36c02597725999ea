"""Everything the emulated Telegram knows: chats, messages, files, the update queue."""

from __future__ import annotations

import asyncio
import mimetypes
import time
from collections.abc import Iterable
from typing import Any, TypeVar

from .client import EmuChat, EmuGroup, EmuUser, command_entities
from .models import (
    BotMessage,
    CallbackAnswer,
    JsonDict,
    Notifier,
    RefusedCall,
    StoredFile,
    UserMessage,
    bad_request,
    canonical,
)

# Sent only when asked for by name in allowed_updates, as Telegram does.
OPT_IN_UPDATES = ("chat_member", "message_reaction", "message_reaction_count")
ChatT = TypeVar("ChatT", bound=EmuChat)


class EmulatorState:
    def __init__(self, token: str, username: str, first_name: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.chats: dict[int, EmuChat] = {}
        self.notifier = Notifier()
        self.errors: list[RefusedCall] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.settings: dict[str, Any] = {}  # setMyDescription and the like, by method name
        self.files: dict[str, StoredFile] = {}
        self.command_lists: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.updates: list[JsonDict] = []
        self.allowed_updates: list[str] = []
        self.send_times: dict[int, list[float]] = {}
        self.queries: dict[str, tuple[int, str]] = {}  # unanswered: id -> (user id, data)
        self.poll_generation = 0
        self.last_call = 0.0  # time.monotonic() of the last API call other than getUpdates
        self.closing = False
        self._seq = 0
        self._last_update_id = 0

    def bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def user(
        self,
        id: int,
        first_name: str = "User",
        username: str | None = None,
        language_code: str | None = None,
        last_name: str | None = None,
        started: bool = False,
    ) -> EmuUser:
        user = EmuUser(self, id, first_name, username, language_code, last_name, started)
        return self._register(user)

    def group(
        self,
        id: int,
        title: str = "Group",
        members: Iterable[EmuUser] = (),
        admins: Iterable[EmuUser] = (),
        chat_type: str | None = None,
    ) -> EmuGroup:
        return self._register(EmuGroup(self, id, title, members, admins, chat_type))

    def _register(self, chat: ChatT) -> ChatT:
        if chat.id in self.chats:
            raise ValueError(f"chat {chat.id} already exists")
        self.chats[chat.id] = chat
        return chat

    def chat(self, chat_id: int) -> EmuChat:
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        return self.chats[chat_id]

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    @staticmethod
    def now() -> int:
        return int(time.time())

    # --- updates -------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: JsonDict) -> None:
        self._last_update_id += 1
        self.updates.append({"update_id": self._last_update_id, kind: payload})
        self.notifier.notify()

    def pending_updates(self) -> list[JsonDict]:
        return [update for update in self.updates if self._wanted(update)]

    def _wanted(self, update: JsonDict) -> bool:
        kind = next(key for key in update if key != "update_id")
        if not self.allowed_updates:
            return kind not in OPT_IN_UPDATES
        return kind in self.allowed_updates

    def confirm(self, offset: int | None) -> None:
        """Forget updates before ``offset``; a negative one keeps only the last -offset."""
        if offset is None:
            return
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        self.notifier.notify()

    def user_message(
        self, user: EmuUser, chat: EmuChat, text: str, reply_to: BotMessage | None
    ) -> UserMessage:
        message = UserMessage(chat.next_message_id(), chat.id, user.id, self.next_seq(), text)
        chat.history.append(message)
        payload: JsonDict = {
            "message_id": message.message_id,
            "from": user.api_user(),
            "chat": chat.api_chat(),
            "date": self.now(),
            "text": text,
        }
        if entities := command_entities(text):
            payload["entities"] = entities
        if reply_to is not None:
            payload["reply_to_message"] = self.render(reply_to)
        self.enqueue("message", payload)
        return message

    def callback_query(self, user: EmuUser, message: BotMessage, data: str) -> str:
        query_id = str(self.next_seq() * 1000 + user.id % 1000)
        self.queries[query_id] = (user.id, data)
        payload = {
            "id": query_id,
            "from": user.api_user(),
            "message": self.render(message),
            "chat_instance": str(abs(message.chat_id * 7 + self.bot_id)),
            "data": data,
        }
        self.enqueue("callback_query", payload)
        return query_id

    def answer_to(self, query_id: str) -> CallbackAnswer | None:
        return next((a for a in self.callback_answers if a.query_id == query_id), None)

    # --- the bot's messages ----------------------------------------------------------------

    def add_bot_message(self, chat: EmuChat, **fields: Any) -> BotMessage:
        seq = self.next_seq()
        message = BotMessage(chat.next_message_id(), chat.id, self.now(), seq, seq, **fields)
        chat.messages.append(message)
        chat.history.append(message)
        self.send_times.setdefault(chat.id, []).append(time.monotonic())
        self.notifier.notify()
        return message

    def render(self, message: BotMessage) -> JsonDict:
        return message.to_api(self.chat(message.chat_id).api_chat(), self.bot_user())

    def store_file(self, data: bytes, filename: str | None, kind: str) -> StoredFile:
        number = len(self.files) + 1
        mime = mimetypes.guess_type(filename)[0] if filename else None
        suffix = ".jpg" if kind == "photo" else f"_{filename or 'file'}"
        path = f"{kind}s/file_{number}{suffix}"
        stored = StoredFile(f"EMU-{kind}-{number}", f"u{number}", path, data, filename, mime)
        self.files[stored.file_id] = stored
        return stored

    # --- for tests ---------------------------------------------------------------------------

    def commands(
        self, scope: JsonDict | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """The command list set for ``scope`` (default scope if None) and language."""
        return self.command_lists.get((scope_key(scope), language_code), [])

    def max_per_second(self, chat_id: int | None = None) -> int:
        """Most bot messages sent within any one second, to one chat or (None) to all chats."""
        times = sorted(
            t for cid, sent in self.send_times.items() if chat_id in (None, cid) for t in sent
        )
        counts = [sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)]
        return max(counts, default=0)

    def assert_no_errors(self) -> None:
        assert not self.errors, "refused API calls:\n" + "\n".join(
            f"  {e.method}: {e.description} {e.params}" for e in self.errors
        )

    async def wait_idle(self, timeout: float = 5.0, quiet: float = 0.05) -> None:
        """Wait until updates are fetched, presses answered and the bot quiet for ``quiet`` s.

        The bot's handlers run out of sight, so "quiet" (no API call but getUpdates) is the
        best sign that they are done.
        """
        deadline = time.monotonic() + timeout
        while self.pending_updates() or self.queries or time.monotonic() - self.last_call < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"bot still busy after {timeout}s: {len(self.pending_updates())} updates "
                    f"not confirmed, {len(self.queries)} button presses unanswered"
                )
            await asyncio.sleep(0.02)


def scope_key(scope: JsonDict | None) -> str:
    return canonical(scope or {"type": "default"})
