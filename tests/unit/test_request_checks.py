"""What a student types in /request: checked, with a clear refusal for anything off."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import parse_config
from bot.errors import UserError
from bot.usecases import request as uc
from models import queries
from models.states import State
from models.tables import Rental

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
CONFIG = parse_config({"rental": {"registry_allow": ["nvcr.io", "docker.io"],
                                  "max_extra_ports": 2}})


def refusal(fn: object, *args: object) -> str:
    with pytest.raises(UserError) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.key


@pytest.mark.parametrize("ref", ["nvcr.io/nvidia/pytorch:23.10-py3", "pytorch/pytorch",
                                 "docker.io/library/ubuntu:22.04", "ubuntu"])
def test_allowed_image_references_pass(ref: str) -> None:
    assert uc.check_custom_image(CONFIG, f"  {ref} ") == ref


@pytest.mark.parametrize(("ref", "key"), [
    ("NVCR.io/Nvidia/PyTorch", "req_image_bad"),
    ("nvcr.io/nvidia/pytorch:bad tag", "req_image_bad"),
    ("", "req_image_bad"), ("ghcr.io/evil/miner:latest", "req_image_registry"),
    ("quay.io/x/y", "req_image_registry"), ("rm -rf /", "req_image_bad"),
])
def test_bad_or_foreign_images_are_refused(ref: str, key: str) -> None:
    assert refusal(uc.check_custom_image, CONFIG, ref) == key


@pytest.mark.parametrize("text", ["0", "-1", "73", "abc", "1.5", "", "1e3"])
def test_hour_quantities_outside_1_to_72_are_refused(text: str) -> None:
    assert refusal(uc.check_quantity, CONFIG, "hour", text) == "req_quantity_bad"


def test_quantities_inside_the_limit_pass() -> None:
    assert uc.check_quantity(CONFIG, "hour", " 72 ") == 72
    assert uc.check_quantity(CONFIG, "month", "12") == 12


def test_purpose_is_required_and_bounded() -> None:
    assert refusal(uc.check_purpose, "   ") == "req_purpose_empty"
    assert refusal(uc.check_purpose, "x" * 501) == "req_purpose_long"
    assert uc.check_purpose(" fine-tune BERT ") == "fine-tune BERT"


def test_extra_ports_are_checked() -> None:
    assert uc.check_ports(CONFIG, "6006, 8080") == [6006, 8080]
    assert uc.check_ports(CONFIG, "6006 6006") == [6006]
    assert refusal(uc.check_ports, CONFIG, "22") == "req_port_reserved"
    assert refusal(uc.check_ports, CONFIG, "70000") == "req_port_bad"
    assert refusal(uc.check_ports, CONFIG, "http") == "req_port_bad"
    assert refusal(uc.check_ports, CONFIG, "1 2 3") == "req_port_many"


def test_pending_request_blocks_a_second_one(database: str) -> None:
    user = queries.upsert_user(5, "Li", "", "", "zh", False, NOW)
    draft = uc.Draft(image_key="pytorch", image_ref="nvcr.io/nvidia/pytorch:20.12-py3",
                     gpus=1, unit="day", quantity=10, purpose="p")
    rental = uc.submit(CONFIG, user, draft, NOW)
    assert rental.state == State.PENDING.value and rental.price == 35000
    assert refusal(uc.submit, CONFIG, user, draft, NOW) == "req_has_pending"
    assert Rental.select().count() == 1


def test_live_limit_and_block_are_enforced(database: str) -> None:
    user = queries.upsert_user(6, "Wang", "", "", "zh", False, NOW)
    for _ in range(2):
        Rental.create(user=user, state="active", image_key="k", image_ref="r", gpus=1,
                      unit="hour", quantity=1, price=200, purpose="p",
                      created_at=queries.to_db(NOW))
    assert refusal(uc.preflight, CONFIG, user) == "req_limit"
    user.blocked = True
    user.save()
    assert refusal(uc.preflight, CONFIG, user) == "blocked_why"


def test_ten_days_hint_the_cheaper_week_plus_days() -> None:
    draft = uc.Draft(gpus=1, unit="day", quantity=10)
    q, better = uc.price(CONFIG, draft)
    assert q.total == 35000
    assert better is not None and better.total == 32500
