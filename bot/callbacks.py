"""Every inline button's callback data, declared once: its prefix, its typed fields and who may
press it.

Use cases build buttons with :meth:`Kind.button` (no Telegram here: they get a
:class:`bot.ports.Button`), handlers register ``CallbackQueryHandler(fn, pattern=kind.pattern)``
and read the values back with :meth:`Kind.parse`, so the format lives in one place. Telegram
hands back whatever a client sends, so parsing is strict: a forged or malformed payload gives
None, never a half-read value. Building checks the same rules and the 64-byte limit, so a button
we could not read back is never sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from billing.plans import UNITS
from bot.ports import Button

LIMIT = 64  # bytes of callback data Telegram accepts
Who = Literal["admin", "owner", "anyone"]
REJECT_REASONS = ("purpose", "capacity", "image", "other")
REQUEST_STEPS = ("img", "gpu", "unit", "qty", "ports", "ok", "edit", "back")


class CallbackDataError(ValueError):
    """A button whose data we would not accept back (bad value or over Telegram's limit)."""


@dataclass(frozen=True)
class Field:
    """One value of a button's data; ``shape`` is what it may look like on the wire."""

    name: str
    shape: str
    number: bool = False

    def encode(self, value: object) -> str:
        text = str(value)
        wrong_type = isinstance(value, bool) or (self.number and not isinstance(value, int))
        if wrong_type or not re.fullmatch(self.shape, text):
            raise CallbackDataError(f"{self.name}={text!r} does not fit {self.shape}")
        return text

    def decode(self, text: str) -> int | str | None:
        if not re.fullmatch(self.shape, text):
            return None
        return int(text) if self.number else text


def number(name: str) -> Field:
    """A positive id or count; at most 12 digits, no sign, no leading zero."""
    return Field(name, r"[1-9][0-9]{0,11}", number=True)


def choice(name: str, *words: str) -> Field:
    return Field(name, "(?:" + "|".join(re.escape(w) for w in words) + ")")


def word(name: str) -> Field:
    """A short key from the config (an image key, a step name), possibly empty."""
    return Field(name, r"[a-z0-9_-]{0,16}")


@dataclass(frozen=True)
class Kind:
    """One kind of button: ``prefix:field:field``; ``who`` may press it. Owner kinds carry the
    rental's id first. ``aliases`` are prefixes that buttons already sent still carry."""

    prefix: str
    who: Who
    fields: tuple[Field, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def pattern(self) -> str:
        """Matches the prefix only, so a malformed payload still reaches the guard, which
        refuses it politely instead of leaving the button spinning."""
        prefixes = "|".join(re.escape(p) for p in (self.prefix, *self.aliases))
        return rf"^(?:{prefixes})(?::|$)"

    def build(self, *values: object) -> str:
        if len(values) != len(self.fields):
            raise CallbackDataError(f"{self.prefix}: {len(self.fields)} value(s) expected")
        encoded = [f.encode(v) for f, v in zip(self.fields, values, strict=True)]
        data = ":".join([self.prefix, *encoded])
        if len(data.encode()) > LIMIT:
            raise CallbackDataError(f"{self.prefix}: {len(data.encode())} bytes > {LIMIT}")
        return data

    def button(self, text: str, *values: object) -> Button:
        return Button(text, self.build(*values))

    def parse(self, data: str | None) -> tuple[Any, ...] | None:
        """The typed values, or None when ``data`` is not exactly this kind's shape."""
        if data is None or len(data.encode()) > LIMIT:
            return None
        rest = next((data[len(p):] for p in (self.prefix, *self.aliases)
                           if data == p or data.startswith(p + ":")), None)
        if rest is None:
            return None
        parts = rest[1:].split(":") if rest else []
        if len(parts) != len(self.fields):
            return None
        values = [f.decode(part) for f, part in zip(self.fields, parts, strict=True)]
        return None if any(v is None for v in values) else tuple(values)


RENTAL = number("rental")

APPROVE = Kind("appr", "admin", (RENTAL,))
REJECT = Kind("rej", "admin", (RENTAL,))  # shows the reasons
REJECT_REASON = Kind("rejr", "admin", (RENTAL, choice("reason", *REJECT_REASONS)))
BACK_TO_CARD = Kind("card", "admin", (RENTAL,))
PAY = Kind("pay", "admin", (choice("mode", "full", "part"), number("order")))

RELEASE = Kind("rel", "owner", (RENTAL,))  # asks to confirm
RELEASE_CONFIRM = Kind("relok", "owner", (RENTAL,))
EXTEND = Kind("ext", "owner", (RENTAL,))
EXTEND_PICK = Kind("exq", "owner", (RENTAL, choice("unit", *UNITS), number("quantity")))
# ``end``: the rental's end (Unix seconds) when the offer was made; a press after the end moved
# (the same button tapped twice) is refused instead of extending and charging again.
EXTEND_CONFIRM = Kind("exy", "owner", (RENTAL, choice("unit", *UNITS), number("quantity"),
                                       number("end")))
STILL_USING = Kind("using", "owner", (RENTAL,), aliases=("idk",))

START_REQUEST = Kind("req:start", "anyone")
REQUEST_STEP = Kind("rq", "anyone", (choice("step", *REQUEST_STEPS), word("value")))
REQUEST_CANCEL = Kind("rqx", "anyone")

# Student self-service (issue 9). ``version``: the rental's newest audit entry when the
# confirmation was shown; a press after anything happened to the rental is answered, not run.
VERSION = number("version")
RESTART = Kind("rst", "owner", (RENTAL,))
RESTART_CONFIRM = Kind("rstok", "owner", (RENTAL, VERSION))
NEW_PASSWORD = Kind("pw", "owner", (RENTAL,))
NEW_PASSWORD_CONFIRM = Kind("pwok", "owner", (RENTAL, VERSION))
WITHDRAW = Kind("wd", "owner", (RENTAL,))
WITHDRAW_CONFIRM = Kind("wdok", "owner", (RENTAL,))
CHANGE = number("change")
CHANGE_IMAGE = Kind("ci", "owner", (RENTAL,))  # the catalogue
CHANGE_IMAGE_PICK = Kind("cip", "owner", (RENTAL, word("image")))
CHANGE_IMAGE_CUSTOM = Kind("cic", "owner", (RENTAL,))  # asks for a typed reference
CHANGE_PORTS = Kind("cp", "owner", (RENTAL,))  # asks for the typed port list
CHANGE_SEND = Kind("cs", "owner", (RENTAL, CHANGE))
CHANGE_APPROVE = Kind("ca", "admin", (CHANGE,))
CHANGE_REJECT = Kind("cr", "admin", (CHANGE,))
# The key's owner is checked by the use case (a key id, not a rental's).
KEY_REMOVE = Kind("kdel", "anyone", (number("key"),))

# The admin console (issue 10). ``page`` counts from 1; a confirmation carries the rental's
# newest audit id (``version``), so a second tap or a stale card runs nothing.
RENTAL_FILTERS = ("active", "queued", "pending", "expired", "failed", "all")
RENTAL_ACTIONS = ("stop", "start", "restart", "endr", "end", "x1d", "x7d", "rm", "cancel")
USER_ACTIONS = ("block", "unblock", "refund", "adjust", "msg")
PAGE = number("page")
USER = number("user")
CONSOLE_RENTALS = Kind("arl", "admin", (choice("filter", *RENTAL_FILTERS), PAGE))
CONSOLE_RENTAL = Kind("arc", "admin", (RENTAL,))  # the card again
CONSOLE_ACT = Kind("ara", "admin", (RENTAL, choice("act", *RENTAL_ACTIONS)))  # asks first
CONSOLE_ACT_OK = Kind("arok", "admin", (RENTAL, choice("act", *RENTAL_ACTIONS), VERSION))
CONSOLE_USERS = Kind("aul", "admin", (PAGE,))
CONSOLE_USER = Kind("auc", "admin", (USER,))
CONSOLE_USER_ACT = Kind("aua", "admin", (USER, choice("act", *USER_ACTIONS)))  # typed input
CONSOLE_QUEUE_UP = Kind("aqu", "admin", (RENTAL,))
CONSOLE_QUEUE_CANCEL = Kind("aqx", "admin", (RENTAL,))
IMAGE = number("image")
IMAGE_TOGGLE = Kind("aimh", "admin", (IMAGE,))  # hide or show again
IMAGE_REMOVE = Kind("aimr", "admin", (IMAGE,))
CONSOLE_KINDS = (CONSOLE_RENTALS, CONSOLE_RENTAL, CONSOLE_ACT, CONSOLE_ACT_OK, CONSOLE_USERS,
                 CONSOLE_USER, CONSOLE_USER_ACT, CONSOLE_QUEUE_UP, CONSOLE_QUEUE_CANCEL,
                 IMAGE_TOGGLE, IMAGE_REMOVE)

KINDS: tuple[Kind, ...] = (
    APPROVE, REJECT, REJECT_REASON, BACK_TO_CARD, PAY, RELEASE, RELEASE_CONFIRM, EXTEND,
    EXTEND_PICK, EXTEND_CONFIRM, STILL_USING, START_REQUEST, REQUEST_STEP, REQUEST_CANCEL,
    RESTART, RESTART_CONFIRM, NEW_PASSWORD, NEW_PASSWORD_CONFIRM, WITHDRAW, WITHDRAW_CONFIRM,
    CHANGE_IMAGE, CHANGE_IMAGE_PICK, CHANGE_IMAGE_CUSTOM, CHANGE_PORTS, CHANGE_SEND,
    CHANGE_APPROVE, CHANGE_REJECT, KEY_REMOVE,
    *CONSOLE_KINDS,
)


def _undeclared() -> str:
    """Matches data no kind's pattern matches: a button of an older version of the bot, or a
    forged one. It still gets an answer, or its spinner would turn until the client gives up."""
    prefixes = "|".join(re.escape(p) for kind in KINDS for p in (kind.prefix, *kind.aliases))
    return rf"^(?!(?:{prefixes})(?::|$))"


UNDECLARED = _undeclared()
