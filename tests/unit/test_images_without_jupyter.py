"""Images the bot does not control: no ``jupyter-lab`` means SSH alone is waited for and the
credentials say so; no ``sshd`` fails at once, with that reason, holding nothing."""

from __future__ import annotations

from bot.services import Services
from models.states import State
from models.tables import GpuAllocation, PortAllocation, Rental
from tests.fakes import RecordingNotifier
from tests.unit.test_lifecycle import STUDENT, FakeRuntime, rent

PYTORCH = "nvcr.io/nvidia/pytorch:20.12-py3"


def sent(svc: Services) -> RecordingNotifier:
    assert isinstance(svc.notifier, RecordingNotifier)
    return svc.notifier


async def test_an_image_without_jupyter_waits_for_ssh_alone_and_says_so(
        svc: Services, runtime: FakeRuntime) -> None:
    runtime.missing[PYTORCH] = {"jupyter-lab"}
    rental = await rent(svc)
    assert rental.state == State.ACTIVE.value
    ((_, _, ssh_port, jupyter_port),) = runtime.named("wait_ready")
    assert ssh_port and jupyter_port is None
    creds = sent(svc).to(STUDENT, "ssh root@")
    assert len(creds) == 1 and "this image has no Jupyter" in creds[0].text
    assert "token=" not in creds[0].text
    assert not [s for s in sent(svc).to(STUDENT) if s.photo is not None], "no QR without Jupyter"


async def test_an_image_with_jupyter_waits_for_both_and_sends_the_qr(
        svc: Services, runtime: FakeRuntime) -> None:
    await rent(svc)
    ((_, _, _, jupyter_port),) = runtime.named("wait_ready")
    assert jupyter_port is not None
    assert "token=" in sent(svc).to(STUDENT, "ssh root@")[0].text
    assert [s for s in sent(svc).to(STUDENT) if s.photo is not None]


async def test_an_image_without_sshd_fails_at_once_with_the_reason_and_holds_nothing(
        svc: Services, runtime: FakeRuntime) -> None:
    runtime.missing[PYTORCH] = {"sshd"}
    rental = await rent(svc)
    assert rental.state == State.FAILED.value
    assert "no OpenSSH server (sshd)" in rental.failure
    assert not runtime.named("wait_ready") and not runtime.named("set_root_password")
    assert runtime.boxes == {}
    assert GpuAllocation.select().where(GpuAllocation.released_at.is_null()).count() == 0
    assert PortAllocation.select().where(PortAllocation.released_at.is_null()).count() == 0
    told = sent(svc).to(STUDENT, "could not be started")
    assert len(told) == 1 and "no OpenSSH server (sshd)" in told[0].text
    assert Rental.get_by_id(rental.id).failure == rental.failure


async def test_the_admin_card_says_whether_a_custom_image_is_rentable_as_it_is(
        svc: Services, runtime: FakeRuntime) -> None:
    from bot.usecases import rentability

    custom = "nvcr.io/lab/custom:1"
    assert await rentability.verdict(svc, custom) == "card_image_unknown"
    runtime.images.add(("h1", custom))
    assert await rentability.verdict(svc, custom) == "card_image_ok"
    runtime.missing[custom] = {"jupyter-lab"}
    assert await rentability.verdict(svc, custom) == "card_image_no_jupyter"
    runtime.missing[custom] = {"sshd", "jupyter-lab"}
    assert await rentability.verdict(svc, custom) == "card_image_no_sshd"
