"""Callback data: every button kind reads back what it built, stays within Telegram's 64 bytes,
and turns forged or malformed data into a clean refusal (None), never a half-read value."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot import callbacks as cb
from bot.callbacks import LIMIT, CallbackDataError, Kind, word

EXAMPLES: dict[str, tuple[Any, ...]] = {
    "appr": (12,), "rej": (12,), "rejr": (12, "capacity"), "card": (12,),
    "pay": ("part", 7), "rel": (3,), "relok": (3,), "ext": (3,), "exq": (3, "day", 2),
    "exy": (3, "month", 12, 1764460800), "using": (3,), "req:start": (), "rq": ("img", "pytorch"),
    "rqx": (), "rst": (3,), "rstok": (3, 41), "pw": (3,), "pwok": (3, 41), "wd": (3,),
    "wdok": (3,), "ci": (3,), "cip": (3, "tf2"), "cic": (3,), "cp": (3,), "cs": (3, 8),
    "ca": (8,), "cr": (8,), "kdel": (5,),
    "arl": ("expired", 2), "arc": (12,), "ara": (12, "endr"), "arok": (12, "x7d", 41),
    "aul": (3,), "auc": (7,), "aua": (7, "refund"), "aqu": (12,), "aqx": (12,),
    "aimh": (4,), "aimr": (4,),
}


def test_every_kind_has_an_example_here() -> None:
    assert sorted(k.prefix for k in cb.KINDS) == sorted(EXAMPLES)


@pytest.mark.parametrize("kind", cb.KINDS, ids=lambda k: k.prefix)
def test_each_kind_reads_back_what_it_built(kind: Kind) -> None:
    values = EXAMPLES[kind.prefix]
    data = kind.build(*values)
    assert kind.parse(data) == values
    assert re.match(kind.pattern, data)
    assert kind.button("Go", *values).data == data


@pytest.mark.parametrize("kind", cb.KINDS, ids=lambda k: k.prefix)
def test_each_kind_says_who_may_press_it(kind: Kind) -> None:
    assert kind.who in ("admin", "owner", "anyone")


def test_the_wire_format_of_buttons_already_sent_is_kept() -> None:
    assert cb.APPROVE.build(5) == "appr:5"
    assert cb.REJECT_REASON.build(5, "other") == "rejr:5:other"
    assert cb.PAY.build("full", 9) == "pay:full:9"
    assert cb.EXTEND_PICK.build(5, "week", 2) == "exq:5:week:2"
    assert cb.REQUEST_STEP.build("ok", "") == "rq:ok:"
    assert cb.START_REQUEST.build() == "req:start"


def test_the_old_still_using_prefix_is_still_understood() -> None:
    assert cb.STILL_USING.parse("idk:41") == (41,)
    assert re.match(cb.STILL_USING.pattern, "idk:41")


@pytest.mark.parametrize(("kind", "data"), [
    (cb.REJECT_REASON, "rejr:1:zzz"), (cb.REJECT_REASON, "rejr:1"),
    (cb.REJECT_REASON, "rejr:1:other:x"), (cb.APPROVE, "appr:abc"), (cb.APPROVE, "appr:"),
    (cb.APPROVE, "appr"), (cb.APPROVE, "appr:0"), (cb.APPROVE, "appr:007"),
    (cb.APPROVE, "appr:1234567890123"), (cb.APPROVE, "appr:１"), (cb.APPROVE, "appr: 1"),
    (cb.PAY, "pay:full:-1"), (cb.PAY, "pay:half:1"), (cb.PAY, "pay:full:"),
    (cb.PAY, "pay:full:1x"), (cb.PAY, "appr:1"), (cb.PAY, None), (cb.PAY, ""),
    (cb.EXTEND_PICK, "exq:1:fortnight:2"), (cb.EXTEND_PICK, "exq:1:day:99999999999999"),
    (cb.REQUEST_STEP, "rq:drop:tables"), (cb.REQUEST_STEP, "rq:img:" + "x" * 17),
    (cb.REQUEST_STEP, "rq:img:A"), (cb.REQUEST_CANCEL, "rqx:1"), (cb.RELEASE, "relok:1"),
    (cb.APPROVE, "appr:1" + ":1" * 40),
])
def test_forged_or_malformed_data_is_refused(kind: Kind, data: str | None) -> None:
    assert kind.parse(data) is None


@pytest.mark.parametrize(("kind", "values"), [
    (cb.APPROVE, (0,)), (cb.APPROVE, (-1,)), (cb.APPROVE, (10**12,)), (cb.APPROVE, ("1",)),
    (cb.APPROVE, (True,)), (cb.REJECT_REASON, (1, "rude")), (cb.PAY, ("half", 1)),
    (cb.APPROVE, ()), (cb.APPROVE, (1, 2)), (cb.REQUEST_STEP, ("img", "a:b")),
])
def test_values_that_would_not_read_back_are_refused_at_build(kind: Kind,
                                                              values: tuple[Any, ...]) -> None:
    with pytest.raises(CallbackDataError):
        kind.build(*values)


def test_the_64_byte_limit_is_enforced_when_building() -> None:
    wide = Kind("w", "anyone", tuple(word(f"f{i}") for i in range(4)))
    assert len(wide.build("a" * 15, "b" * 15, "c" * 15, "d" * 14)) == LIMIT
    with pytest.raises(CallbackDataError, match="bytes"):
        wide.build("a" * 15, "b" * 15, "c" * 15, "d" * 15)
    assert wide.parse(":".join(["w", "a" * 15, "b" * 15, "c" * 15, "d" * 15])) is None


def test_every_kind_fits_with_its_widest_values() -> None:
    widest = 10**12 - 1
    assert len(cb.EXTEND_CONFIRM.build(widest, "month", widest, widest)) <= LIMIT
    assert len(cb.REQUEST_STEP.build("ports", "x" * 16)) <= LIMIT
    assert len(cb.REJECT_REASON.build(widest, "capacity")) <= LIMIT


def test_patterns_do_not_catch_each_others_data() -> None:
    for kind in cb.KINDS:
        for other in cb.KINDS:
            data = other.build(*EXAMPLES[other.prefix])
            assert bool(re.match(kind.pattern, data)) == (kind is other), (kind.prefix, data)


def test_owner_kinds_carry_the_rental_first() -> None:
    for kind in cb.KINDS:
        if kind.who == "owner":
            assert kind.fields[0] is cb.RENTAL, kind.prefix
