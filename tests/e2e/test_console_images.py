"""/images end to end on the rig: an image added by reference is really pulled from the rig's
registry (a progress bar in the admin's chat) and offered; one prepared from a local base
without sshd becomes rentable, a real SSH login proving it. The rig's engines cannot reach the
internet: the build installs openssh-server with apt from the rig's partial Debian mirror
(tests/rig/mirror.py), set as the config's apt_mirror, signatures checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.usecases import prepare
from models.states import State
from models.tables import CatalogImage, Rental
from tests.e2e import images
from tests.e2e.harness import Harness, approve_next, request_rental
from tests.e2e.sshcheck import ssh
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.e2e]

NO_SSHD = "nvcr.io/nvidia/pytorch:20.12-bare"
IMAGES = [{"key": "pytorch", "name": "PyTorch (NGC 20.12)",
           "ref": "nvcr.io/nvidia/pytorch:20.12-py3"},
          {"key": "bare", "name": "Bare", "ref": NO_SSHD}]


async def test_an_image_added_by_reference_is_pulled_and_offered(harness: Harness) -> None:
    boss, _ = await harness.admins()
    ref = harness.rig.registry_image
    said = await boss.send(f"/images add {ref} Registry Torch")
    await boss.wait_message(contains="Pulled onto", after=said, timeout=90)
    await boss.wait_message(contains="is in the catalogue", after=said, timeout=90)
    added = CatalogImage.get(CatalogImage.ref == ref)
    assert added.source == "added" and not added.hidden
    for engine in harness.rig.engines:
        assert engine.client().images.get(ref)
    student = await harness.user(5201, "Sun", "en")
    await student.send("/request")
    menu = await student.wait_message(predicate=lambda m: "Registry Torch" in m.buttons())
    assert "Registry Torch" in menu.buttons()


def remove_prepared(rig: Rig) -> None:
    """What the build left (the image and its layers) goes before the rig's own clean-up,
    which removes images one by one and cannot remove a parent before its children."""
    for engine in rig.engines:
        client = engine.client()
        for found in client.images.list(all=True):
            if any(tag.startswith(prepare.REPOSITORY) for tag in found.tags):
                client.images.remove(found.id, force=True)
        client.images.prune(filters={"dangling": True})


def record_build_log(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every line of the builds' logs (the chat gets only the newest lines of each chunk)."""
    lines: list[str] = []
    runtime = harness.services.runtime
    build = runtime.build_image

    async def tee(host: str, dockerfile: str, tag: str, on_log: Callable[[str], None]) -> Any:
        def both(line: str) -> None:
            lines.append(line)
            on_log(line)
        return await build(host, dockerfile, tag, both)

    monkeypatch.setattr(runtime, "build_image", tee)
    return lines


@pytest.mark.config(images=IMAGES, rental={"ready_timeout_s": 30},
                    prepare=lambda rig: {"apt_mirror": rig.mirror_url})
async def test_an_image_prepared_from_a_base_without_sshd_is_rentable(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    images.derive(harness.rig, NO_SSHD, images.NO_SSHD)
    build_log = record_build_log(harness, monkeypatch)
    served_before = len(harness.rig.mirror.served)
    try:
        await _prepare_and_rent(harness)
        _assert_apt_installed_sshd_from_the_mirror(harness.rig, "\n".join(build_log),
                                                   harness.rig.mirror.served[served_before:])
    finally:
        await harness.settle()
        for engine in harness.rig.engines:
            engine.remove_containers()
        remove_prepared(harness.rig)


async def _prepare_and_rent(harness: Harness) -> None:
    boss, _ = await harness.admins()
    said = await boss.send("/images prepare bare")
    await boss.wait_message(contains="build log follows", after=said, timeout=30)
    done = await boss.wait_message(predicate=lambda m: "Prepared:" in m.content
                                   or "Preparing failed" in m.content, after=said, timeout=400)
    log = "\n".join(m.content for m in boss.messages)
    assert "Prepared:" in done.content, log
    assert "MB" in done.content
    log = [m for m in boss.messages if re.search(r"Step \d+/\d+ :", m.content)]
    assert log and all(len(m.content) <= 1600 for m in log), "the build log came in chunks"
    student = await harness.user(5211, "Zhou", "en")
    submitted = await request_rental(student, unit="hour", quantity=1, image="Bare (prepared)")
    found = re.search(r"R\d+", submitted.text)
    assert found, submitted.text
    ref = found.group(0)
    await approve_next(boss, ref)
    creds = await student.wait_message(contains="ssh root@", timeout=60)
    address = creds.text.split("ssh root@")[1].split()[0]
    port = creds.text.split(" -p ")[1].split()[0]
    password = creds.text.split("Password: ")[1].split()[0]
    assert (await ssh(address, int(port), password, "id -u")).strip() == "0"
    await harness.settle()
    assert Rental.get_by_id(int(ref[1:])).state == State.ACTIVE.value


def _assert_apt_installed_sshd_from_the_mirror(rig: Rig, log: str,
                                               served: list[tuple[str, int]]) -> None:
    """apt, not a leftover: the package came from the mirror, on every engine."""
    mirror = re.escape(f"{rig.mirror_url}/debian")
    fetched = re.findall(rf"^Get:\d+ {mirror} bookworm/main amd64 openssh-server ", log,
                         re.MULTILINE)
    assert len(fetched) == len(rig.engines), log
    assert re.search(r"^Setting up openssh-server ", log, re.MULTILINE), log
    debs = [code for path, code in served if "/openssh-server_" in path]
    assert debs == [200] * len(rig.engines), served
