"""Telegram away when a rental becomes ready: the rental stays whole, and a fresh password
reaches the student once Telegram answers; the lost one is written down nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.ports import DeliveryDelayedError, Keyboard
from bot.services import Services
from bot.usecases import credentials as cred
from models.tables import GpuAllocation, Rental
from tests.fakes import RecordingNotifier
from tests.unit.test_lifecycle import START, STUDENT, FakeRuntime, make_services, rent, tick_at


@dataclass
class AwayNotifier(RecordingNotifier):
    away: bool = True

    async def send(self, chat_id: int, text: str, buttons: Keyboard | None = None,
                   secret: bool = False) -> int | None:
        if self.away and secret:
            raise DeliveryDelayedError("proxy refused")
        return await super().send(chat_id, text, buttons, secret)


def services_with(runtime: FakeRuntime) -> tuple[Services, AwayNotifier]:
    svc = make_services(runtime)
    notifier = AwayNotifier()
    svc.notifier = notifier
    return svc, notifier


async def test_credentials_lost_to_an_outage_are_replaced_once_telegram_answers(
        database: str, runtime: FakeRuntime) -> None:
    svc, notifier = services_with(runtime)
    rental = await rent(svc)
    held = Rental.get_by_id(rental.id)
    assert held.state == "active" and held.credentials_due
    assert GpuAllocation.select().where(GpuAllocation.rental == rental).count() == 2
    assert notifier.to(STUDENT, "Password") == []
    first_hash = held.password_hash

    await tick_at(svc, START + timedelta(minutes=1))  # still away: nothing changes
    assert Rental.get_by_id(rental.id).credentials_due

    notifier.away = False
    await tick_at(svc, START + timedelta(minutes=2))
    after = Rental.get_by_id(rental.id)
    assert not after.credentials_due
    assert after.password_hash != first_hash
    (message,) = notifier.to(STUDENT, "Password")
    password = message.text.split("<code>")[2].split("</code>")[0]
    assert cred.verify_password(password, after.password_hash)
    sets = len(runtime.named("set_root_password"))

    await tick_at(svc, START + timedelta(minutes=3))
    assert len(notifier.to(STUDENT, "Password")) == 1  # once
    assert len(runtime.named("set_root_password")) == sets
