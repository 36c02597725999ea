"""Billing use cases with a real database, real QR codes, a frozen clock and a recording
Notifier (a fake of our own port, not of Telegram)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing import ledger
from bot import callbacks as cb
from bot.clock import FrozenClock
from bot.config import parse_config
from bot.errors import UserError
from bot.services import Services
from bot.usecases import payments as uc
from models.tables import LedgerEntry, Rental, User
from tests.fakes import RecordingNotifier
from tests.unit.test_ledger import make_rental, make_user
from tests.unit.test_payment import decode

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # already December 1st in Shanghai
ADMIN_TG, ADMIN_CHAT, STUDENT_TG = 9001, -100123, 1001
PAYLOAD = "https://pay.example/lab?amount={amount}&ref={reference}"


def make_services(**telegram: Any) -> Services:
    config = parse_config({
        "timezone": "Asia/Shanghai", "language": "en",
        "telegram": {"admins": [ADMIN_TG], **telegram},
        "billing": {"payment_payload": PAYLOAD, "payment_note": "WeChat Pay to <Lab> account"},
    })
    return Services(config=config, clock=FrozenClock(NOW), notifier=RecordingNotifier())


@pytest.fixture
def svc(database: str) -> Services:
    return make_services(admin_chat=ADMIN_CHAT)


@pytest.fixture
def student(database: str) -> User:
    return make_user(STUDENT_TG, first_name="Wei", language="en")


@pytest.fixture
def admin(database: str) -> User:
    return make_user(ADMIN_TG, role="admin", first_name="Admin")


@pytest.fixture
def rental(student: User) -> Rental:
    return make_rental(student, gpus=2, unit="day", quantity=1, price=7_500)


def notifier(svc: Services) -> RecordingNotifier:
    assert isinstance(svc.notifier, RecordingNotifier)
    return svc.notifier


async def charged(svc: Services, student: User, rental: Rental) -> LedgerEntry:
    return await uc.charge_and_request_payment(svc, student, rental, 7_500, "Rental R1", NOW)


class TestCharge:
    async def test_student_gets_a_qr_that_decodes_to_the_payload(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        (photo,) = notifier(svc).to(STUDENT_TG)
        assert photo.photo is not None
        assert decode(photo.photo) == [
            f"https://pay.example/lab?amount=75.00&ref={entry.reference}"]
        assert "¥75.00" in photo.text and entry.reference in photo.text
        assert "Rental R1" in photo.text
        assert "WeChat Pay to &lt;Lab&gt; account" in photo.text
        assert ledger.balance(student) == -7_500

    async def test_admin_chat_gets_the_order_with_payment_buttons(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        (card,) = notifier(svc).to(ADMIN_CHAT)
        assert entry.reference in card.text and "¥75.00" in card.text and "R" in card.text
        assert card.buttons == [[cb.PAY.button("Mark paid", "full", entry.id),
                                 cb.PAY.button("Record payment", "part", entry.id)]]

    async def test_without_an_admin_chat_each_admin_gets_the_order(
            self, student: User, rental: Rental) -> None:
        svc = make_services(admins=[ADMIN_TG, 9002])
        await charged(svc, student, rental)
        assert [s.chat_id for s in notifier(svc).sent if s.buttons] == [ADMIN_TG, 9002]


class TestMarkPaid:
    async def test_it_pays_the_order_and_tells_the_student(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        done = await uc.mark_paid(svc, ADMIN_TG, entry.id, NOW)
        assert (done.amount, done.balance, done.reference) == (7_500, 0, entry.reference)
        assert ledger.balance(student) == 0
        told = notifier(svc).to(STUDENT_TG)[-1].text
        assert told == (f"✅ Payment of ¥75.00 recorded for order {entry.reference}. "
                        "Your balance: ¥0.00.")
        assert entry.reference in done.text and "Wei" in done.text

    async def test_a_second_press_is_refused_as_already_paid(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        await uc.mark_paid(svc, ADMIN_TG, entry.id, NOW)
        with pytest.raises(UserError) as refused:
            await uc.mark_paid(svc, ADMIN_TG, entry.id, NOW)
        assert refused.value.key == "bill_already_paid"
        assert "already paid" in refused.value.render("en")
        assert LedgerEntry.select().where(LedgerEntry.kind == "payment").count() == 1

    @pytest.mark.parametrize("who", ["student", "unknown", "stale_admin"])
    async def test_anyone_but_a_configured_admin_is_refused(
            self, svc: Services, student: User, admin: User, rental: Rental, who: str) -> None:
        entry = await charged(svc, student, rental)
        presser = {"student": STUDENT_TG, "unknown": 4242, "stale_admin": 7777}[who]
        if who == "stale_admin":  # the database says admin, the config no longer does
            make_user(7777, role="admin")
        with pytest.raises(UserError) as refused:
            await uc.mark_paid(svc, presser, entry.id, NOW)
        assert refused.value.key == "not_admin"
        assert LedgerEntry.select().count() == 1

    async def test_an_unknown_order_is_refused(self, svc: Services, admin: User) -> None:
        with pytest.raises(UserError) as refused:
            await uc.mark_paid(svc, ADMIN_TG, 31337, NOW)
        assert refused.value.key == "bill_unknown_order"
        assert "G031337" in refused.value.render("en")


class TestRecordPayment:
    @pytest.mark.parametrize("typed", ["abc", "", "0", "-5", "1.234", "¥", "99999999999"])
    async def test_bad_amounts_are_refused_and_nothing_is_written(
            self, svc: Services, student: User, admin: User, rental: Rental, typed: str) -> None:
        entry = await charged(svc, student, rental)
        before = len(notifier(svc).sent)
        with pytest.raises(UserError) as refused:
            await uc.record_payment(svc, ADMIN_TG, entry.id, typed, NOW)
        assert refused.value.key == "bill_bad_amount"
        assert LedgerEntry.select().count() == 1
        assert len(notifier(svc).sent) == before

    async def test_bad_amount_message_escapes_what_was_typed(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        with pytest.raises(UserError) as refused:
            await uc.record_payment(svc, ADMIN_TG, entry.id, "<b>lots</b>", NOW)
        assert "&lt;b&gt;lots&lt;/b&gt;" in refused.value.render("zh")

    async def test_a_partial_payment_leaves_the_rest_due(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        assert "¥75.00" in uc.ask_amount(svc, ADMIN_TG, entry.id)
        done = await uc.record_payment(svc, ADMIN_TG, entry.id, "¥50", NOW)
        assert (done.amount, done.balance) == (5_000, -2_500)
        assert "balance: -¥25.00" in notifier(svc).to(STUDENT_TG)[-1].text
        student.language = "zh"
        student.save()
        await uc.record_payment(svc, ADMIN_TG, entry.id, "0.5", NOW)
        assert "你的余额：-¥24.50" in notifier(svc).to(STUDENT_TG)[-1].text
        assert "¥24.50" in uc.ask_amount(svc, ADMIN_TG, entry.id)
        rest = await uc.mark_paid(svc, ADMIN_TG, entry.id, NOW)
        assert (rest.amount, rest.balance) == (2_450, 0)
        with pytest.raises(UserError, match="bill_already_paid"):
            uc.ask_amount(svc, ADMIN_TG, entry.id)

    async def test_a_non_admin_cannot_record_or_even_be_asked(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        with pytest.raises(UserError, match="not_admin"):
            uc.ask_amount(svc, STUDENT_TG, entry.id)
        with pytest.raises(UserError, match="not_admin"):
            await uc.record_payment(svc, STUDENT_TG, entry.id, "75", NOW)
        assert LedgerEntry.select().count() == 1


class TestBill:
    async def test_it_shows_balance_open_orders_payments_and_rentals(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        await uc.record_payment(svc, ADMIN_TG, entry.id, "20", NOW)
        text = uc.bill_text(student, "en", svc.config.tz)
        assert "you owe ¥55.00" in text
        assert f"{entry.reference} Rental R1: ¥55.00 due (of ¥75.00)" in text
        assert f"2026-12-01 {entry.reference}: ¥20.00" in text  # the date in lab time
        assert f"R{rental.id}: ¥75.00" in text
        assert "/pay" in text

    def test_an_empty_bill_says_so_in_chinese(self, student: User) -> None:
        assert "暂无" in uc.bill_text(student, "zh")

    async def test_pay_requests_ask_for_what_is_still_due(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        entry = await charged(svc, student, rental)
        await uc.record_payment(svc, ADMIN_TG, entry.id, "70", NOW)
        ((png, caption),) = uc.pay_requests(svc, student)
        assert decode(png) == [f"https://pay.example/lab?amount=5.00&ref={entry.reference}"]
        assert "¥5.00" in caption
        await uc.mark_paid(svc, ADMIN_TG, entry.id, NOW)
        assert uc.pay_requests(svc, student) == []


class TestReport:
    async def test_default_month_is_the_current_one_in_lab_time(
            self, svc: Services, student: User, admin: User, rental: Rental) -> None:
        await charged(svc, student, rental)
        result = uc.report(svc, ADMIN_TG, "", NOW)
        assert result.filename == "gpurent-2026-12.csv"
        assert "¥75.00" in result.text and "48" in result.text  # 2 GPUs x 1 day
        assert result.csv.startswith(b"\xef\xbb\xbf")
        november = uc.report(svc, ADMIN_TG, "2026-11", NOW - timedelta(days=1))
        assert november.filename == "gpurent-2026-11.csv" and "¥0.00" in november.text

    async def test_bad_months_and_non_admins_are_refused(
            self, svc: Services, student: User, admin: User) -> None:
        with pytest.raises(UserError) as refused:
            uc.report(svc, ADMIN_TG, "2026-13", NOW)
        assert refused.value.key == "bill_bad_month"
        with pytest.raises(UserError, match="not_admin"):
            uc.report(svc, STUDENT_TG, "", NOW)


def test_billing_and_its_use_cases_import_no_telegram_or_docker() -> None:
    code = ("import sys, billing.ledger, billing.payment, billing.report, bot.usecases.payments;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('telegram', 'docker')];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
