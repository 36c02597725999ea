"""Bot API methods around the messages: identity, updates, commands, files, chats."""

from __future__ import annotations

from typing import Any

from .client import EmuGroup, EmuUser
from .methods_messages import Handler
from .models import JsonDict, bad_request
from .params import Params
from .state import EmulatorState, scope_key
from .validate import check_commands

STORED_SETTINGS = (
    "setmydescription", "setmyshortdescription", "setmyname", "setchatmenubutton",
    "setmydefaultadministratorrights",
)  # fmt: skip
_ADMIN_RIGHTS = (
    "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
    "can_manage_video_chats", "can_restrict_members", "can_promote_members", "can_change_info",
    "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
)  # fmt: skip


async def get_me(emu: EmulatorState, p: Params) -> Any:
    return emu.bot_user()


async def get_updates(emu: EmulatorState, p: Params) -> Any:
    """Long polling: wait up to ``timeout`` s, return at once when an update is there."""
    limit = min(max(p.get_int("limit") or 100, 1), 100)
    timeout = max(p.get_float("timeout") or 0.0, 0.0)
    allowed = p.get_json("allowed_updates")
    if isinstance(allowed, list):
        emu.allowed_updates = [str(kind) for kind in allowed]
    emu.confirm(p.get_int("offset"))
    # A newer getUpdates ends an older one still waiting (Telegram answers it with 409;
    # an empty answer keeps an abandoned poll from PTB's shutdown out of emu.errors).
    emu.poll_generation += 1
    mine = emu.poll_generation

    def ready() -> bool:
        return bool(emu.pending_updates()) or emu.poll_generation != mine or emu.closing

    await emu.notifier.wait_for(ready, timeout)
    if emu.poll_generation != mine or emu.closing:
        return []
    return emu.pending_updates()[:limit]


async def delete_webhook(emu: EmulatorState, p: Params) -> Any:
    if p.get_bool("drop_pending_updates"):
        emu.updates.clear()
    return True


async def set_webhook(emu: EmulatorState, p: Params) -> Any:
    raise bad_request("the emulator serves getUpdates only; webhooks are not supported")


async def get_webhook_info(emu: EmulatorState, p: Params) -> Any:
    return {"url": "", "has_custom_certificate": False, "pending_update_count": len(emu.updates)}


async def set_my_commands(emu: EmulatorState, p: Params) -> Any:
    commands = check_commands(p.get_json("commands"))
    emu.command_lists[_command_key(p)] = commands
    return True


async def get_my_commands(emu: EmulatorState, p: Params) -> Any:
    commands = emu.command_lists.get(_command_key(p), [])
    return [{"command": command, "description": text} for command, text in commands]


async def delete_my_commands(emu: EmulatorState, p: Params) -> Any:
    emu.command_lists.pop(_command_key(p), None)
    return True


def _command_key(p: Params) -> tuple[str, str]:
    scope = p.get_json("scope")
    if scope is not None and not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    language = p.get_str("language_code") or ""
    if language and (len(language) != 2 or not language.isalpha()):
        raise bad_request("invalid language code specified")
    return scope_key(scope), language


async def get_file(emu: EmulatorState, p: Params) -> Any:
    stored = emu.files.get(p.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.api_file()


async def get_chat(emu: EmulatorState, p: Params) -> Any:
    chat = emu.chat(p.chat_id())
    gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
    full: JsonDict = {**chat.api_chat(), "accent_color_id": 0, "max_reaction_count": 11}
    full["accepted_gift_types"] = dict.fromkeys((*gifts, "gifts_from_channels"), False)
    return full


async def get_chat_member(emu: EmulatorState, p: Params) -> Any:
    chat = emu.chat(p.chat_id())
    user = emu.chats.get(p.get_int("user_id") or 0)
    if not isinstance(user, EmuUser):
        raise bad_request("user not found")
    if isinstance(chat, EmuGroup):
        return _member(user, chat.members.get(user.id, "left"))
    return _member(user, "member" if user.id == chat.id else "left")


async def get_chat_administrators(emu: EmulatorState, p: Params) -> Any:
    chat = emu.chat(p.chat_id())
    if not isinstance(chat, EmuGroup):
        raise bad_request("there are no administrators in the private chat")
    admins = [uid for uid, status in chat.members.items() if status == "administrator"]
    return [_member(_user(emu, uid), "administrator") for uid in admins]


def _user(emu: EmulatorState, user_id: int) -> EmuUser:
    user = emu.chats[user_id]
    assert isinstance(user, EmuUser)
    return user


def _member(user: EmuUser, status: str) -> JsonDict:
    member: JsonDict = {"user": user.api_user(), "status": status}
    if status == "administrator":
        member.update(dict.fromkeys(_ADMIN_RIGHTS, False), can_manage_chat=True)
    return member


async def ok(emu: EmulatorState, p: Params) -> Any:
    return True


def _store_setting(name: str) -> Handler:
    async def store(emu: EmulatorState, p: Params) -> Any:
        emu.settings[name] = p.values
        return True

    return store


MISC_METHODS: dict[str, Handler] = {
    "getme": get_me,
    "getupdates": get_updates,
    "deletewebhook": delete_webhook,
    "setwebhook": set_webhook,
    "getwebhookinfo": get_webhook_info,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "getfile": get_file,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "close": ok,
    "logout": ok,
    **{name: _store_setting(name) for name in STORED_SETTINGS},
}
