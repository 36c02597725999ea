"""Paid changes of a running rental (image, ports) on the fake runtime over a real database:
approval first, the fee charged only once it worked, the old container back when it did not,
and every step done once however often it is pressed."""

from __future__ import annotations

import pytest

from billing import ledger
from bot.errors import UserError
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import changes
from models import queries
from models.tables import AuditEvent, ChangeRequest, Rental, User
from tests.unit.test_lifecycle import ADMIN, OTHER, START, STUDENT, FakeRuntime, rent, student

TF2 = "nvcr.io/nvidia/tensorflow:20.12-tf2-py3"


def admin() -> User:
    return queries.upsert_user(ADMIN, "Boss", "", "boss", "en", True, START)


def charges() -> list[tuple[int, str]]:
    return [(e.amount, e.reason) for e in ledger.statement(student()).entries
            if e.kind == ledger.CHARGE]


async def asked(svc: Services, rental: Rental, key: str = "tf2") -> ChangeRequest:
    changes.propose_image(svc, rental.id, student(), START, key=key)
    change = ChangeRequest.select().order_by(ChangeRequest.id.desc()).get()
    await changes.send(svc, rental.id, change.id, student(), START)
    return ChangeRequest.get_by_id(change.id)


async def test_an_approved_image_change_runs_the_new_image_and_charges_the_fee_once(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    before = charges()
    old = runtime.boxes[rental.container_id].spec
    change = await asked(svc, rental)
    assert change.state == "pending" and change.fee == 3000
    assert svc.notifier.to(ADMIN, "Change of R1")  # type: ignore[attr-defined]
    await changes.decide(svc, admin(), change.id, True, START)
    await svc.idle()
    after = Rental.get_by_id(rental.id)
    new = runtime.boxes[after.container_id].spec
    assert after.image_ref == TF2 and new.image == TF2 and rental.container_id not in runtime.boxes
    assert new.workspace_dir == old.workspace_dir and new.gpu_ids == old.gpu_ids
    assert new.ports == old.ports and after.password_hash != rental.password_hash
    assert charges()[len(before):] == [(3000, "image change of R1")]
    assert ChangeRequest.get_by_id(change.id).state == "done"
    assert AuditEvent.select().where(AuditEvent.kind == "image_changed").count() == 1
    assert svc.notifier.to(STUDENT, "now runs the new image")  # type: ignore[attr-defined]


async def test_a_failed_image_change_puts_the_old_container_back_and_charges_nothing(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    before = charges()
    change = await asked(svc, rental)
    runtime.fail["set_root_password"] = RuntimeFaultError("start", "no chpasswd",
                                                          transient=False)
    await changes.decide(svc, admin(), change.id, True, START)
    await svc.idle()
    after = Rental.get_by_id(rental.id)
    assert after.image_ref == rental.image_ref and after.container_id == rental.container_id
    assert list(runtime.boxes) == [rental.container_id]
    assert runtime.boxes[rental.container_id].state == "running"
    assert charges() == before and ChangeRequest.get_by_id(change.id).state == "failed"
    assert svc.notifier.to(STUDENT, "could not be set up anew")  # type: ignore[attr-defined]


async def test_an_image_that_cannot_be_pulled_leaves_the_running_container_alone(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    change = await asked(svc, rental)
    runtime.fail["ensure_image"] = RuntimeFaultError("pull", "manifest unknown", transient=False)
    await changes.decide(svc, admin(), change.id, True, START)
    await svc.idle()
    assert not runtime.named("stop") and runtime.boxes[rental.container_id].state == "running"
    assert ChangeRequest.get_by_id(change.id).state == "failed"


async def test_sending_twice_and_deciding_twice_do_it_once(svc: Services) -> None:
    rental = await rent(svc)
    change = await asked(svc, rental)
    with pytest.raises(UserError) as again:
        await changes.send(svc, rental.id, change.id, student(), START)
    assert again.value.key == "chg_sent_already"
    await changes.decide(svc, admin(), change.id, False, START)
    with pytest.raises(UserError) as late:
        await changes.decide(svc, admin(), change.id, True, START)
    assert late.value.key == "chg_decided_already"
    assert ChangeRequest.get_by_id(change.id).state == "rejected"
    assert svc.notifier.to(STUDENT, "was not approved")  # type: ignore[attr-defined]


async def test_one_change_at_a_time_and_only_by_the_owner_and_only_admins_decide(
        svc: Services) -> None:
    rental = await rent(svc)
    change = await asked(svc, rental)
    with pytest.raises(UserError) as busy:
        changes.image_menu(svc, rental.id, student())
    assert busy.value.key == "chg_open"
    with pytest.raises(UserError) as stranger:
        changes.image_menu(svc, rental.id, student(OTHER))
    assert stranger.value.key == "my_unknown"
    with pytest.raises(UserError) as not_admin:
        await changes.decide(svc, student(OTHER), change.id, True, START)
    assert not_admin.value.key == "not_admin"


async def test_a_custom_image_is_checked_like_in_request(svc: Services) -> None:
    rental = await rent(svc)
    with pytest.raises(UserError) as refused:
        changes.propose_image(svc, rental.id, student(), START, typed="evil.example/x:1")
    assert refused.value.key == "req_image_registry"
    text, _ = changes.propose_image(svc, rental.id, student(), START,
                                    typed="nvcr.io/nvidia/pytorch:23.10-py3")
    assert "pytorch:23.10-py3" in text and "¥30.00" in text


async def test_a_ports_change_publishes_the_added_port_and_frees_the_removed_one(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    Rental.update(extra_ports="7000").where(Rental.id == rental.id).execute()  # as if asked
    queries.allocate(rental, rental.host, [], {7000: 20050}, START)
    changes.propose_ports(svc, rental.id, student(), START, "6006, 8080")
    change = ChangeRequest.select().order_by(ChangeRequest.id.desc()).get()
    await changes.send(svc, rental.id, change.id, student(), START)
    await changes.decide(svc, admin(), change.id, True, START)
    await svc.idle()
    after = Rental.get_by_id(rental.id)
    ports = queries.rental_ports(after)
    assert sorted(ports) == [22, 6006, 8080, 8888] and after.extra_ports == "6006,8080"
    assert runtime.boxes[after.container_id].spec.ports == ports
    [commit] = runtime.named("commit")  # from a snapshot: nothing but the ports changes
    assert runtime.boxes[after.container_id].spec.image == f"{commit[3]}:{commit[4]}"
    assert 20050 not in queries.held_ports(rental.host)
    assert "Port 6006 → host port" in svc.notifier.to(STUDENT, "ssh root@")[-1].text  # type: ignore[attr-defined]
    assert charges()[-1] == (3000, "ports change of R1")


async def test_the_same_ports_again_are_refused(svc: Services) -> None:
    rental = await rent(svc)
    with pytest.raises(UserError) as same:
        changes.propose_ports(svc, rental.id, student(), START, "-")
    assert same.value.key == "chg_ports_same"
