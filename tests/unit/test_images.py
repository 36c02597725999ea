"""The image catalogue in the database: seeded from the config once, changed by admins only,
and what /request offers follows it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import PrepareConfig
from bot.errors import UserError
from bot.ports import RuntimeFaultError
from bot.services import Services
from bot.usecases import images, prepare
from models import catalog, queries
from models.tables import CatalogImage, User
from tests.fakes import RecordingNotifier
from tests.unit.test_lifecycle import ADMIN, OTHER, START, FakeRuntime, student


def admin() -> User:
    return queries.upsert_user(ADMIN, "Boss", "", "boss", "en", True, START)


def offered(svc: Services) -> list[str]:
    return [i.key for i in svc.config.images]


def row(key: str) -> CatalogImage:
    return CatalogImage.get(CatalogImage.key == key)


async def test_the_config_seeds_the_catalogue_once(svc: Services) -> None:
    first = offered(svc)
    images.seed(svc, START)
    images.remove(svc, admin(), row(first[0]).id, START)
    images.seed(svc, START)  # a restart: the removed one stays removed
    assert offered(svc) == first[1:]


async def test_hidden_images_are_not_offered_and_the_last_one_stays(svc: Services) -> None:
    images.seed(svc, START)
    keys = offered(svc)
    for key in keys[:-1]:
        images.toggle(svc, admin(), row(key).id, START)
    assert offered(svc) == keys[-1:]
    with pytest.raises(UserError, match="img_last"):
        images.toggle(svc, admin(), row(keys[-1]).id, START)
    images.toggle(svc, admin(), row(keys[0]).id, START)  # shown again
    assert offered(svc) == [keys[0], keys[-1]]


async def test_an_added_image_is_pulled_onto_each_host_then_offered(
        svc: Services, runtime: FakeRuntime) -> None:
    images.seed(svc, START)
    ref, name = images.parse_add(svc.config, ["add", "docker.io/library/ubuntu:24.04",
                                              "Ubuntu", "24"])
    said = await images.add(svc, admin(), ref, name, ADMIN)
    assert ("h1", ref) in runtime.images and "ubuntu-24-04" in said
    assert offered(svc)[-1] == "ubuntu-24-04" and svc.config.image("ubuntu-24-04") is not None
    assert isinstance(svc.notifier, RecordingNotifier) and svc.notifier.to(ADMIN, "Pulling")


async def test_a_student_changes_nothing_in_the_catalogue(svc: Services) -> None:
    images.seed(svc, START)
    mallory, first = student(OTHER), row(offered(svc)[0])
    for change in (images.toggle, images.remove):
        with pytest.raises(UserError, match="not_admin"):
            change(svc, mallory, first.id, START)
    with pytest.raises(UserError, match="not_admin"):
        images.listing(svc.config, mallory)
    assert catalog.find(first.id) is not None and not row(first.key).hidden


async def test_prepare_builds_a_derived_image_streams_the_log_and_offers_it(
        svc: Services, runtime: FakeRuntime) -> None:
    images.seed(svc, START)
    base = prepare.target(svc, admin(), ["prepare", offered(svc)[0]])
    said = await prepare.prepare(svc, admin(), base, ADMIN, START)
    (_, host, text, tag), = runtime.named("build_image")
    assert f"ARG BASE={base.ref}\n" in text and "FROM ${BASE}" in text
    assert "openssh-server" in text and "chpasswd" in text and "jupyterlab" in text
    assert "rm -f /etc/ssh/ssh_host_*" in text  # no two rentals share host keys
    assert "512 MB" in said and (host, tag) in runtime.images
    assert svc.config.images[-1].ref == tag  # /request offers it
    assert isinstance(svc.notifier, RecordingNotifier)
    chunks = [s.text for s in svc.notifier.to(ADMIN, "<pre>")]
    assert chunks and all(len(c) <= 1600 for c in chunks)
    assert "&lt;building&gt;" in chunks[-1]  # the log is escaped


async def test_a_failed_prepare_adds_nothing(svc: Services, runtime: FakeRuntime) -> None:
    images.seed(svc, START)
    before = offered(svc)
    runtime.fail["build_image"] = RuntimeFaultError("start", "apt-get: no network", False)
    base = prepare.target(svc, admin(), ["prepare", before[0]])
    said = await prepare.prepare(svc, admin(), base, ADMIN, START)
    assert "no network" in said and offered(svc) == before
    with pytest.raises(UserError, match="not_admin"):
        prepare.target(svc, student(OTHER), ["prepare", before[0]])


async def test_prepare_installs_from_the_configured_mirrors(
        svc: Services, runtime: FakeRuntime) -> None:
    mirrors = PrepareConfig("https://mirrors.tuna.tsinghua.edu.cn",
                            "https://pypi.tuna.tsinghua.edu.cn/simple")
    svc.config = replace(svc.config, prepare=mirrors)
    images.seed(svc, START)
    base = prepare.target(svc, admin(), ["prepare", offered(svc)[0]])
    await prepare.prepare(svc, admin(), base, ADMIN, START)
    (_, _, text, _), = runtime.named("build_image")
    assert "\nARG APT_MIRROR=https://mirrors.tuna.tsinghua.edu.cn\n" in text
    assert "\nARG PIP_INDEX=https://pypi.tuna.tsinghua.edu.cn/simple\n" in text
