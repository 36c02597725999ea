"""What must hold after every step of the chat fuzz; each check returns the problems it found
(an empty list when all is well), described well enough to act on."""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

from billing import ledger
from bot.i18n import t
from models.states import ON_HOST, State
from models.tables import GpuAllocation, LedgerEntry, PortAllocation, Rental, User
from tests.botemu import BotApiEmulator, BotMessage

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# The English catalogue names the other language in its own script ("/lang 中文/English").
NAMED_LANGUAGES = ("中文",)


def refused(emu: BotApiEmulator) -> list[str]:
    return [f"emulator refused {e.method}: {e.description} {e.params}" for e in emu.errors]


def unanswered(emu: BotApiEmulator) -> list[str]:
    return [f"button press {data!r} by {uid} never answered"
            for uid, data in emu.queries.values()]


def logged_errors(records: list[logging.LogRecord]) -> list[str]:
    formatter = logging.Formatter("%(name)s: %(message)s")
    return [formatter.format(r) + ("\n" + formatter.formatException(r.exc_info)
                                   if r.exc_info else "") for r in records]


def holds() -> list[str]:
    """No GPU or port held twice on a host; only a rental on a host holds anything."""
    problems: list[str] = []
    for table, what in ((GpuAllocation, GpuAllocation.gpu_index), (PortAllocation,
                                                                   PortAllocation.port)):
        live = list(table.select(table.host, what, table.rental)
                    .where(table.released_at.is_null()))
        twice = Counter((h.host_id, getattr(h, what.name)) for h in live)
        problems += [f"{table.__name__} {key} held {n} times" for key, n in twice.items()
                     if n > 1]
        on_host = {s.value for s in ON_HOST}
        problems += [f"{table.__name__} held by R{h.rental_id} in state {h.rental.state}"
                     for h in live if h.rental.state not in on_host]
    return problems


def containers(runtime: Any) -> list[str]:
    """What the engines run: no GPU or host port in two running containers of one host, and
    every running container belongs to a rental that holds a host (ours to run)."""
    problems: list[str] = []
    used: dict[tuple[str, str], str] = {}
    on_host = {s.value for s in ON_HOST}
    for cid, box in runtime.boxes.items():
        if box.state != "running":
            continue
        things = [f"gpu {g}" for g in box.spec.gpu_ids] + [
            f"port {p}" for p in box.spec.ports.values()]
        for thing in things:
            if (box.host, thing) in used:
                problems.append(f"{box.host} {thing} in {used[box.host, thing]} and {cid}")
            used[box.host, thing] = cid
        rental = Rental.get_or_none(Rental.id == int(box.spec.labels.get("gpurent.rental", 0)))
        if rental is None or rental.state not in on_host:
            problems.append(f"{cid} runs for R{box.spec.labels.get('gpurent.rental')} "
                            f"({rental.state if rental else 'no such rental'})")
    return problems


def owners() -> list[str]:
    users = {u.id for u in User.select(User.id)}
    return [f"R{r.id} ({r.state}) has no owner" for r in Rental.select()
            if r.user_id not in users]


def ledgers() -> list[str]:
    problems: list[str] = []
    for user in User.select():
        entries = list(LedgerEntry.select().where(LedgerEntry.user == user))
        summed = sum(ledger.SIGN[e.kind] * e.amount for e in entries if e.kind in ledger.SIGN)
        problems += [f"ledger entry {e.id} of kind {e.kind!r} amount {e.amount}"
                     for e in entries if e.kind not in ledger.SIGN or e.amount < 0]
        if summed != ledger.balance(user):
            problems.append(f"user {user.telegram_id}: balance {ledger.balance(user)} but "
                            f"entries sum to {summed}")
    return problems


def states() -> list[str]:
    known = {s.value for s in State}
    return [f"R{r.id} in unknown state {r.state!r}" for r in Rental.select()
            if r.state not in known]


class Languages:
    """Every message and pop-up to a student in the student's language: zh ones carry Chinese,
    en ones none. ``/lang`` switches what is expected from its own answer on."""

    def __init__(self, expected: dict[int, str]) -> None:
        self.expected = dict(expected)
        self.seen: dict[int, int] = dict.fromkeys(expected, 0)
        self.answers_seen = 0
        self.switch = {t(lang, "lang_set"): lang for lang in ("zh", "en")}

    def check(self, emu: BotApiEmulator) -> list[str]:
        problems: list[str] = []
        for uid in self.expected:
            chat = emu.chats.get(uid)
            fresh = [m for m in chat.messages if m.updated_seq > self.seen[uid]] if chat else []
            for message in sorted(fresh, key=lambda m: m.updated_seq):
                self.expected[uid] = self.switch.get(message.content, self.expected[uid])
                problems += self._judge(uid, message.content, message)
                self.seen[uid] = max(self.seen[uid], message.updated_seq)
        answers = emu.callback_answers[self.answers_seen:]
        self.answers_seen = len(emu.callback_answers)
        for answer in answers:
            if answer.user_id in self.expected and answer.text:
                problems += self._judge(answer.user_id, answer.text, None)
        return problems

    def _judge(self, uid: int, text: str, message: BotMessage | None) -> list[str]:
        if not text:
            return []
        lang = self.expected[uid]
        plain = text
        for name in NAMED_LANGUAGES:
            plain = plain.replace(name, "")
        wrong = not CJK.search(plain) if lang == "zh" else bool(CJK.search(plain))
        where: Any = message.describe() if message else repr(text[:200])
        return [f"student {uid} ({lang}) got: {where}"] if wrong else []
