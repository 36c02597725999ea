"""A fuzz of the whole chat (issue 12): random sequences of texts, commands, real and forged
button presses, documents and edits from several students and two admins, with the scheduler's
tick and dying containers in between, against the real bot on a fake runtime (no Docker).

After every step: nothing went to the error handler or failed in the background, the
emulated Telegram refused nothing and every press was answered once, no GPU or port is held
twice, every rental has an owner, each ledger balance is the sum of its entries, and every
message to a student is in that student's language.

A run takes at least 10,000 steps (``GPURENT_FUZZ_STEPS`` for more), about two minutes here.
A failure prints the steps that led to it; ``GPURENT_FUZZ_SHRINK=1`` has hypothesis shrink
them first (minutes).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from bot import callbacks as cb
from tests.fuzz import checks
from tests.fuzz.vocabulary import (
    CUSTOM_IMAGES,
    DECISIONS,
    DOCUMENTS,
    FORGED_GARBAGE,
    MENUS,
    MINUTES,
    TYPED_ANSWERS,
    texts,
)
from tests.fuzz.world import ADMINS, STUDENTS, World, errors_logged

# Sequences come in batches until the run has taken at least STEPS steps (hypothesis decides
# each sequence's length, up to SEQUENCE_STEPS).
STEPS = int(os.environ.get("GPURENT_FUZZ_STEPS", "10000"))
SEQUENCE_STEPS = 450
BATCH = 5
# Shrinking a long failing sequence can take many minutes: asked for when debugging one.
SHRINK = os.environ.get("GPURENT_FUZZ_SHRINK", "") == "1"
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if SHRINK else [])]
PEOPLE = (*ADMINS, *STUDENTS)
STEP_SECONDS = 2  # each chat step moves the clock: the per-user rate limit refills
counted = {"sequences": 0, "steps": 0}
# zh for a zh client, English for any other code, the config's language (zh) for none
EXPECTED_LANGUAGE = {1001: "zh", 1002: "en", 1003: "zh", 1004: "en"}


def field_values(field: cb.Field) -> st.SearchStrategy[str]:
    if field.number:
        return st.sampled_from(["1", "2", "3", "4", "5", "6", "8", "12", "999999999999", "0",
                                "01", "-1", "x", ""])
    words = re.findall(r"[a-z0-9_-]+", field.shape) if field.shape.startswith("(?:") else []
    return st.sampled_from([*words, "pytorch", "tf2", "", "zzz", "a" * 17])


def forged_for(kind: cb.Kind) -> st.SearchStrategy[str]:
    values = st.tuples(*(field_values(f) for f in kind.fields))
    extra = st.sampled_from(["", "", ":1", ":x"])
    return st.builds(lambda vs, tail: ":".join([kind.prefix, *vs]) + tail, values, extra)


FORGED = st.one_of(st.sampled_from(cb.KINDS).flatmap(forged_for),
                   st.sampled_from(FORGED_GARBAGE)).map(lambda d: d.encode()[:64].decode())


def _ascii_only(text: str) -> str:
    return checks.CJK.sub("x", text)


class ChatFuzz(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="gpurent-fuzz-"))
        self.loop = asyncio.new_event_loop()
        self.logged = errors_logged()
        self.records = self.logged.__enter__()
        self.world = World(self.dir)
        self.run(self.world.start())
        self.languages = checks.Languages(dict(EXPECTED_LANGUAGE))
        counted["sequences"] += 1

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.run(self.world.stop())
        finally:
            self.loop.close()
            self.logged.__exit__(None, None, None)
            shutil.rmtree(self.dir, ignore_errors=True)

    def step(self, together: bool = False) -> None:
        counted["steps"] += 1
        self.world.clock.set(self.world.clock.now() + timedelta(seconds=STEP_SECONDS))
        self.run(self.world.deliver(together))

    def writes_chinese(self, uid: int) -> bool:
        return self.languages.expected.get(uid) == "zh"

    # --- what people do ------------------------------------------------------------------

    @rule(uid=st.sampled_from(PEOPLE), text=texts())
    def say(self, uid: int, text: str) -> None:
        self.say_and_check(uid, text)

    @rule(uid=st.sampled_from(PEOPLE), pick=st.integers(0, 1 << 16), back=st.integers(0, 7))
    def press_a_button(self, uid: int, pick: int, back: int) -> None:
        found = self._button(uid, pick, back)
        if found is not None:
            self.world.press(uid, *found)
            self.step()

    @rule(pair=st.sampled_from([(a, b) for a in PEOPLE for b in PEOPLE if a < b]),
          pick=st.integers(0, 1 << 16))
    def two_press_at_once(self, pair: tuple[int, int], pick: int) -> None:
        """Two people's presses handled concurrently, as the bot does for different users."""
        for uid in pair:
            found = self._button(uid, pick, 0)
            if found is not None:
                self.world.press(uid, *found)
        self.step(together=True)

    @rule(uid=st.sampled_from(PEOPLE), data=FORGED)
    def press_forged(self, uid: int, data: str) -> None:
        chat = self.world.people[uid]
        shown = [m for m in chat.messages if not m.deleted]
        if shown:
            self.world.press(uid, shown[-1], data)
            self.step()

    @rule(uid=st.sampled_from(PEOPLE), document=st.sampled_from(DOCUMENTS))
    def send_document(self, uid: int, document: tuple[str, bytes, str]) -> None:
        self.world.send_document(uid, *document)
        self.step()

    @rule(uid=st.sampled_from(PEOPLE), text=texts())
    def edit_a_message(self, uid: int, text: str) -> None:
        text = text if self.writes_chinese(uid) else _ascii_only(text)
        if self.world.edit(uid, text):
            self.step()

    @rule(uid=st.sampled_from(tuple(STUDENTS)), picks=st.lists(st.integers(0, 99),
                                                             min_size=6, max_size=6),
          typed=st.lists(st.sampled_from(TYPED_ANSWERS), min_size=3, max_size=3))
    def request_a_rental(self, uid: int, picks: list[int], typed: list[str]) -> None:
        """The /request dialogue walked with random choices, so sequences reach approvals,
        containers, extensions and releases; what the student types is sometimes wrong."""
        self.say_and_check(uid, "/request")
        if not self.press_and_check(uid, "rq:img:", picks[0]):
            return
        if not self.press_and_check(uid, "rq:gpu:", picks[1]):
            self.say_and_check(uid, CUSTOM_IMAGES[picks[1] % len(CUSTOM_IMAGES)])
            self.press_and_check(uid, "rq:gpu:", picks[1])
        self.press_and_check(uid, "rq:unit:", picks[2])
        if typed[0] or not self.press_and_check(uid, "rq:qty:", picks[3]):
            self.say_and_check(uid, typed[0] or "2")
        self.say_and_check(uid, typed[1] or "train a model")
        if typed[2] or not self.press_and_check(uid, "rq:ports:", picks[4]):
            self.say_and_check(uid, typed[2] or "6006")
        self.press_and_check(uid, "rq:ok:", picks[5])

    @rule(uid=st.sampled_from(tuple(ADMINS)), prefix=st.sampled_from(DECISIONS),
          pick=st.integers(0, 1 << 16))
    def an_admin_decides(self, uid: int, prefix: str, pick: int) -> None:
        self.press_and_check(uid, prefix, pick, within=30)

    @rule(uid=st.sampled_from(PEOPLE), command=st.sampled_from(MENUS),
          picks=st.lists(st.integers(0, 1 << 16), min_size=1, max_size=4))
    def explore_a_menu(self, uid: int, command: str, picks: list[int]) -> None:
        """A command, then a few taps down the menu it opens (card, action, confirmation)."""
        self.say_and_check(uid, command)
        for pick in picks:
            if not self.press_and_check(uid, "", pick, within=1):
                return

    @rule(uid=st.sampled_from(tuple(ADMINS)))
    def an_admin_approves_every_open_card(self, uid: int) -> None:
        """Most requests get approved, so students have rentals to extend, change, release."""
        for message in list(self.world.people[uid].messages[-30:]):
            found = [b.callback_data for row in message.reply_markup for b in row
                     if b.callback_data and b.callback_data.startswith("appr:")]
            if found and not message.deleted:
                self.world.press(uid, message, found[0])
                self.step()
                self.nothing_went_wrong()

    def say_and_check(self, uid: int, text: str) -> None:
        text = text if self.writes_chinese(uid) else _ascii_only(text)
        self.run(self.world.say(uid, text))
        self.step()
        self.nothing_went_wrong()

    def press_and_check(self, uid: int, prefix: str, pick: int, within: int = 3) -> bool:
        """Press one of the buttons whose data starts with ``prefix`` on the newest message
        (of the last ``within``) that has any; False when none has."""
        for message in reversed(self.world.people[uid].messages[-within:]):
            found = [b.callback_data for row in message.reply_markup for b in row
                     if b.callback_data and b.callback_data.startswith(prefix)]
            if found and not message.deleted:
                self.world.press(uid, message, found[pick % len(found)])
                self.step()
                self.nothing_went_wrong()
                return True
        return False

    @rule(minutes=st.sampled_from(MINUTES))
    def tick(self, minutes: float) -> None:
        counted["steps"] += 1
        self.run(self.world.tick(minutes))

    @rule(pick=st.integers(0, 1 << 16))
    def a_container_dies(self, pick: int) -> None:
        running = self.world.runtime.running()
        if running:
            counted["steps"] += 1
            self.run(self.world.kill(running[pick % len(running)]))

    def _button(self, uid: int, pick: int, back: int) -> tuple[Any, str] | None:
        chat = self.world.people[uid]
        shown = [m for m in chat.messages[-8:] if not m.deleted and any(
            b.callback_data for row in m.reply_markup for b in row)]
        if not shown:
            return None
        message = shown[-1 - back % len(shown)]
        buttons = [b for row in message.reply_markup for b in row if b.callback_data]
        return message, buttons[pick % len(buttons)].callback_data

    # --- what must hold ------------------------------------------------------------------

    @invariant()
    def nothing_went_wrong(self) -> None:
        emu = self.world.emu
        problems = (checks.logged_errors(self.records) + checks.refused(emu)
                    + checks.unanswered(emu) + checks.holds() + checks.owners()
                    + checks.containers(self.world.runtime)
                    + checks.ledgers() + checks.states() + self.languages.check(emu))
        assert not problems, "\n".join(problems)


# Conversation timeouts need the JobQueue; the fuzz moves the clock itself.
@pytest.mark.filterwarnings("ignore:Ignoring `conversation_timeout`")
def test_the_whole_chat_survives_random_use() -> None:
    started = time.monotonic()
    counted.update(sequences=0, steps=0)
    while counted["steps"] < STEPS:
        run_state_machine_as_test(ChatFuzz, settings=settings(
            max_examples=BATCH, stateful_step_count=SEQUENCE_STEPS, deadline=None,
            phases=PHASES, suppress_health_check=list(HealthCheck), print_blob=True))
    print(f"chat fuzz: {counted['sequences']} sequences, {counted['steps']} steps, "
          f"{time.monotonic() - started:.0f} s")
