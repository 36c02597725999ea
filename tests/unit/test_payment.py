"""Payment payloads, QR codes that decode back to them, and the early-release refund policy."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from billing.money import MAX_CENTS
from billing.payment import PaymentError, payment_payload, plain_amount, qr_png, refund_due

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def decode(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    return [result.text for result in zxingcpp.read_barcodes(image)]


class TestPayload:
    @pytest.mark.parametrize(("cents", "shown"), [
        (1, "0.01"), (360, "3.60"), (3500, "35.00"), (140000, "1400.00"),
        (MAX_CENTS, "10000000.00"),
    ])
    def test_amount_is_plain_yuan_without_a_currency_sign(self, cents: int, shown: str) -> None:
        assert plain_amount(cents) == shown
        assert payment_payload("{amount}", cents, "G000001") == shown

    def test_template_gets_amount_and_reference(self) -> None:
        template = "https://pay.example/lab?amount={amount}&ref={reference}"
        assert payment_payload(template, 360, "G000123") == (
            "https://pay.example/lab?amount=3.60&ref=G000123")

    @pytest.mark.parametrize("cents", [0, -100, MAX_CENTS + 1, True, 3.6])
    def test_bad_amounts_are_refused(self, cents: Any) -> None:
        with pytest.raises(PaymentError):
            payment_payload("{amount}", cents, "G000001")

    @pytest.mark.parametrize("template", ["{who}", "{0}", "{amount.real}", "{amount"])
    def test_templates_with_other_placeholders_are_refused(self, template: str) -> None:
        with pytest.raises(PaymentError, match="placeholders"):
            payment_payload(template, 100, "G000001")


class TestQr:
    @pytest.mark.parametrize("payload", [
        "gpurent payment G000001: 3.60",
        "https://pay.example/lab?amount=1400.00&ref=G000042",
        "微信支付 实验室 G000007 ¥35.00",
    ])
    def test_png_decodes_to_the_exact_payload(self, payload: str) -> None:
        png = qr_png(payload)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert decode(png) == [payload]

    def test_a_long_collection_link_still_fits(self) -> None:
        payload = "https://pay.example/collect?" + "x" * 600 + "&ref=G000001"
        assert decode(qr_png(payload)) == [payload]


class TestRefundDue:
    def test_policy_none_gives_nothing_back(self) -> None:
        assert refund_due("none", 10_500, START, START + 3 * DAY, START) == 0

    @pytest.mark.parametrize(("used", "expected"), [
        (timedelta(0), 10_500),                  # nothing used: 3 whole days back
        (timedelta(hours=2), 7_000),              # 2 days 22 h left: 2 whole days
        (DAY + timedelta(hours=2), 3_500),        # 1 day 22 h left: 1 whole day
        (2 * DAY, 3_500),                         # exactly 1 day left
        (2 * DAY + timedelta(seconds=1), 0),      # under a day left
        (3 * DAY, 0),                             # at expiry
        (5 * DAY, 0),                             # after expiry: never negative
        (-DAY, 10_500),                           # not started yet: all days back, no more
    ])
    def test_pro_rata_days_pays_back_unused_whole_days(self, used: timedelta,
                                                        expected: int) -> None:
        assert refund_due("pro_rata_days", 10_500, START, START + 3 * DAY, START + used) == expected

    def test_fractions_of_a_cent_are_rounded_down(self) -> None:
        # A week for 220.00: 4 unused days are 4/7 of it, 125.714...
        assert refund_due("pro_rata_days", 22_000, START, START + 7 * DAY,
                          START + DAY * 2.5) == 12_571

    def test_a_rental_shorter_than_a_day_gets_nothing(self) -> None:
        assert refund_due("pro_rata_days", 1_000, START, START + timedelta(hours=5), START) == 0

    def test_unknown_policies_are_refused(self) -> None:
        with pytest.raises(PaymentError, match="refund policy"):
            refund_due("half", 1_000, START, START + DAY, START)

    @given(price=st.integers(min_value=0, max_value=MAX_CENTS),
           hours=st.integers(min_value=1, max_value=24 * 400),
           first=st.integers(min_value=-48, max_value=24 * 500),
           second=st.integers(min_value=-48, max_value=24 * 500))
    def test_it_stays_between_zero_and_the_price_and_shrinks_over_time(
            self, price: int, hours: int, first: int, second: int) -> None:
        expires = START + timedelta(hours=hours)
        early, late = sorted((first, second))
        sooner = refund_due("pro_rata_days", price, START, expires, START + timedelta(hours=early))
        later = refund_due("pro_rata_days", price, START, expires, START + timedelta(hours=late))
        assert 0 <= later <= sooner <= price
