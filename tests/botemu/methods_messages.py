"""Bot API methods that send, edit, delete and answer: the ones Telegram refuses most."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .client import EmuChat
from .models import BotMessage, CallbackAnswer, StoredFile, UserMessage, bad_request, canonical
from .params import Params, Upload
from .state import EmulatorState
from .validate import check_answer_text, parse_markup, render_text

Handler = Callable[[EmulatorState, Params], Awaitable[Any]]
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip


def _target(emu: EmulatorState, p: Params) -> EmuChat:
    chat = emu.chat(p.chat_id())
    chat.can_receive()
    return chat


async def send_message(emu: EmulatorState, p: Params) -> Any:
    chat = _target(emu, p)
    raw, parse_mode = p.get_str("text"), p.get_str("parse_mode")
    text, entities = render_text(raw, parse_mode, p.get_json("entities"))
    markup, rows = parse_markup(p.get_json("reply_markup"))
    message = emu.add_bot_message(
        chat, text=text, raw_text=raw, parse_mode=parse_mode, entities=entities,
        markup_raw=markup, reply_markup=rows,
    )  # fmt: skip
    return emu.render(message)


async def send_photo(emu: EmulatorState, p: Params) -> Any:
    return _send_media(emu, p, "photo")


async def send_document(emu: EmulatorState, p: Params) -> Any:
    return _send_media(emu, p, "document")


def _send_media(emu: EmulatorState, p: Params, kind: str) -> Any:
    chat = _target(emu, p)
    raw, parse_mode = p.get_str("caption"), p.get_str("parse_mode")
    caption, entities = render_text(raw, parse_mode, p.get_json("caption_entities"), caption=True)
    markup, rows = parse_markup(p.get_json("reply_markup"))
    file = _file_for(emu, p.upload(kind), kind)
    message = emu.add_bot_message(
        chat, kind=kind, caption=caption or None, raw_text=raw, parse_mode=parse_mode,
        entities=entities, markup_raw=markup, reply_markup=rows, file=file,
    )  # fmt: skip
    return emu.render(message)


def _file_for(emu: EmulatorState, source: Upload | str | None, kind: str) -> StoredFile:
    if isinstance(source, Upload):
        if not source.data:
            raise bad_request("file must be non-empty")
        return emu.store_file(source.data, source.filename, kind)
    if not source:
        raise bad_request(f"there is no {kind} in the request")
    if source in emu.files:
        return emu.files[source]
    if source.startswith(("http://", "https://")):
        stored = emu.store_file(b"", source.rsplit("/", 1)[-1] or None, kind)
        stored.url = source
        return stored
    raise bad_request("wrong file identifier/HTTP URL specified")


def _editable(emu: EmulatorState, p: Params) -> BotMessage:
    if p.get_str("inline_message_id"):
        raise bad_request("inline messages are not supported by the emulator")
    chat = emu.chat(p.chat_id())
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    found = chat.find(message_id)
    if isinstance(found, UserMessage):
        raise bad_request("message can't be edited")
    if found is None or found.deleted:
        raise bad_request("message to edit not found")
    return found


async def edit_message_text(emu: EmulatorState, p: Params) -> Any:
    message = _editable(emu, p)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    raw, parse_mode = p.get_str("text"), p.get_str("parse_mode")
    text, entities = render_text(raw, parse_mode, p.get_json("entities"))
    return _apply_edit(emu, message, p, {"text": text, "entities": entities}, (raw, parse_mode))


async def edit_message_caption(emu: EmulatorState, p: Params) -> Any:
    message = _editable(emu, p)
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    raw, parse_mode = p.get_str("caption"), p.get_str("parse_mode")
    caption, entities = render_text(raw, parse_mode, p.get_json("caption_entities"), caption=True)
    changes = {"caption": caption or None, "entities": entities}
    return _apply_edit(emu, message, p, changes, (raw, parse_mode))


async def edit_message_reply_markup(emu: EmulatorState, p: Params) -> Any:
    message = _editable(emu, p)
    return _apply_edit(emu, message, p, {}, (message.raw_text, message.parse_mode))


def _apply_edit(
    emu: EmulatorState,
    message: BotMessage,
    p: Params,
    changes: dict[str, Any],
    source: tuple[str | None, str | None],
) -> Any:
    # Like Telegram, an edit without reply_markup removes the inline keyboard.
    markup, rows = parse_markup(p.get_json("reply_markup"))
    changes = {**changes, "markup_raw": markup}
    if all(canonical(getattr(message, key)) == canonical(new) for key, new in changes.items()):
        raise bad_request(NOT_MODIFIED)
    message.history.append(message.snapshot())
    for key, new in changes.items():
        setattr(message, key, new)
    message.reply_markup = rows
    message.raw_text, message.parse_mode = source
    message.edit_date = emu.now()
    message.updated_seq = emu.next_seq()
    emu.notifier.notify()
    return emu.render(message)


async def delete_message(emu: EmulatorState, p: Params) -> Any:
    chat = emu.chat(p.chat_id())
    found = chat.find(p.get_int("message_id") or 0)
    if found is None or found.deleted:
        raise bad_request("message to delete not found")
    found.deleted = True
    emu.notifier.notify()
    return True


async def answer_callback_query(emu: EmulatorState, p: Params) -> Any:
    query_id = p.get_str("callback_query_id") or ""
    if query_id not in emu.queries:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.get_str("text")
    check_answer_text(text)
    user_id, data = emu.queries.pop(query_id)
    answer = CallbackAnswer(
        query_id, user_id, data, text, p.get_bool("show_alert"), p.get_str("url")
    )
    emu.callback_answers.append(answer)
    emu.notifier.notify()
    return True


async def send_chat_action(emu: EmulatorState, p: Params) -> Any:
    chat = _target(emu, p)
    action = p.get_str("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    emu.chat_actions.append((chat.id, action))
    return True


MESSAGE_METHODS: dict[str, Handler] = {
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
    "sendchataction": send_chat_action,
}
