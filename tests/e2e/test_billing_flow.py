"""Money end to end: the charge on approval, the payment QR, Mark paid, /bill and /report."""

from __future__ import annotations

import csv
import io

import pytest
import zxingcpp
from PIL import Image

from billing import ledger
from models.states import State
from models.tables import LedgerEntry, Rental, User
from tests.e2e.harness import Harness, rent

pytestmark = [pytest.mark.rig, pytest.mark.e2e]

PAYLOAD = "lab-pay:{reference}:{amount}"


def decode(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code in the photo"
    return str(found[0].text)


@pytest.mark.config(billing={"payment_payload": PAYLOAD})
async def test_charge_qr_mark_paid_bill_and_report(harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 4001, gpus=2, unit="hour", quantity=5)
    student = harness.person(4001)

    entry = LedgerEntry.get((LedgerEntry.rental == rental) & (LedgerEntry.kind == "charge"))
    assert entry.amount == 1800  # 5 h x ¥3.60
    qr = await student.wait_message(predicate=lambda m: m.photo is not None
                                    and entry.reference in (m.caption or ""))
    assert qr.photo is not None
    assert decode(qr.photo) == f"lab-pay:{entry.reference}:18.00"

    await student.send("/bill")
    owing = await student.wait_message(contains="you owe")
    assert "¥18.00" in owing.text

    order = await boss.wait_message(contains=f"Order {entry.reference}")
    await boss.press(order, "Mark paid")
    told = await student.wait_message(contains="Payment of ¥18.00 recorded")
    assert entry.reference in told.text
    assert ledger.balance(User.get(User.telegram_id == 4001)) == 0

    await student.send("/bill")
    await student.wait_message(contains="nothing to pay")

    month = harness.clock.now().astimezone(harness.config.tz).strftime("%Y-%m")
    await boss.send(f"/report {month}")
    doc = await boss.wait_message(predicate=lambda m: m.document is not None)
    assert doc.document is not None
    rows = list(csv.reader(io.StringIO(doc.document.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    total = next(dict(zip(header, r, strict=False)) for r in body if r[0] == "total")
    assert total["payments"] == "18.00" and total["charges"] == "18.00"


async def test_bad_report_month_is_explained(harness: Harness) -> None:
    boss, _ = await harness.admins()
    await boss.send("/report November")
    reply = await boss.wait_message(contains="Not a month")
    assert "2026-11" in reply.text or "YYYY" in reply.text


async def test_students_cannot_read_the_report(harness: Harness) -> None:
    student = await harness.user(4002, "Nosy", "en")
    await student.send("/report")
    await student.wait_message(contains="Only lab admins")


@pytest.mark.config(billing={"collect": "before"})
async def test_pay_first_policy_starts_the_container_once_paid(harness: Harness) -> None:
    boss, _ = await harness.admins()
    rental = await rent(harness, boss, 4003, unit="hour", quantity=2)
    student = harness.person(4003)
    await student.wait_message(contains="starts as soon as the payment is recorded")
    assert Rental.get_by_id(rental.id).state == State.APPROVED.value
    assert harness.rig.engine("HPC1").client().containers.list(all=True) == []

    entry = LedgerEntry.get((LedgerEntry.rental == rental) & (LedgerEntry.kind == "charge"))
    order = await boss.wait_message(contains=f"Order {entry.reference}")
    await boss.press(order, "Mark paid")
    await student.wait_message(contains="ssh root@", timeout=30)
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value
