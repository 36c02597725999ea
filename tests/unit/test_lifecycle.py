"""Reminders, expiry and revival, driven by ``run_tick`` with a frozen clock over a real
SQLite database, a recording Notifier and a fake of our ContainerRuntime port (no Docker).

The fakes here are shared by the retention and usage tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing import ledger
from bot import callbacks as cb
from bot.clock import FrozenClock
from bot.config import parse_config
from bot.errors import UserError
from bot.jobs import run_tick
from bot.ports import GpuReading, Progress, RunSpec, RuntimeFaultError
from bot.services import Services
from bot.usecases import extend
from bot.usecases.provision import provision
from models import queries
from models.states import State
from models.tables import AuditEvent, GpuAllocation, Rental, User
from tests.fakes import RecordingNotifier

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
STUDENT, OTHER, THIRD, ADMIN = 1001, 1002, 1003, 9001
ROOT = "/data/ws"


@dataclass
class Box:
    host: str
    spec: RunSpec
    state: str = "running"


@dataclass
class FakeRuntime:
    """Containers, images and directories per host, in memory; ``fail`` injects faults by
    method name; ``usage`` is what gpu_usage reports per host."""

    boxes: dict[str, Box] = field(default_factory=dict)
    images: set[tuple[str, str]] = field(default_factory=set)
    dirs: set[tuple[str, str]] = field(default_factory=set)
    usage: dict[str, list[GpuReading]] = field(default_factory=dict)
    fail: dict[str, RuntimeFaultError] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] == name]

    async def ping(self, host: str) -> None:
        self._call("ping", host)

    async def engine_version(self, host: str) -> str:
        self._call("engine_version", host)
        return "27.0-fake"

    async def build_image(self, host: str, dockerfile: str, tag: str, on_log: Any) -> int:
        self._call("build_image", host, dockerfile, tag)
        for n in range(40):
            on_log(f"Step {n}: <building> {tag}")
        self.images.add((host, tag))
        return 512_000_000

    async def ensure_image(self, host: str, ref: str, on_progress: Progress | None) -> bool:
        self._call("ensure_image", host, ref)
        self.images.add((host, ref))
        return True

    async def pull_pinned(self, host: str, ref: str, on_progress: Progress | None) -> str:
        self._call("pull_pinned", host, ref)
        pinned = f"{ref.rsplit(':', 1)[0]}@sha256:{'ab' * 32}"
        self.images.add((host, pinned))
        return pinned

    async def run(self, host: str, spec: RunSpec) -> str:
        self._call("run", host, spec)
        cid = f"c{next(self.ids)}"
        self.boxes[cid] = Box(host, spec)
        self.dirs.add((host, spec.workspace_dir))
        return cid

    async def set_root_password(self, host: str, cid: str, password: str) -> None:
        self._call("set_root_password", host, cid)

    async def wait_ready(self, host: str, address: str, ssh_port: int,
                         jupyter_port: int | None, timeout: float) -> None:
        self._call("wait_ready", host, ssh_port, jupyter_port)

    async def stop(self, host: str, cid: str) -> None:
        self._call("stop", host, cid)
        self._box(cid).state = "exited"

    async def start(self, host: str, cid: str) -> None:
        self._call("start", host, cid)
        self._box(cid).state = "running"

    async def remove(self, host: str, cid: str) -> None:
        self._call("remove", host, cid)
        self.boxes.pop(cid, None)

    def _box(self, cid: str) -> Box:
        if cid not in self.boxes:
            raise RuntimeFaultError("gone", f"no container {cid}", transient=False)
        return self.boxes[cid]

    async def remove_images(self, host: str, repository: str) -> int:
        self._call("remove_images", host, repository)
        gone = {(h, ref) for h, ref in self.images
                if h == host and ref.startswith(repository + ":")}
        self.images -= gone
        return len(gone)

    async def published_ports(self, host: str) -> set[int]:
        return set()

    async def list_ours(self, host: str) -> list[tuple[str, dict[str, str], str]]:
        return [(cid, b.spec.labels, b.state) for cid, b in self.boxes.items() if b.host == host]

    async def gpus(self, host: str) -> list[tuple[str, str, int]]:
        return [(str(i), "H200", 141 << 30) for i in range(4)]

    async def commit(self, host: str, cid: str, repo: str, tag: str) -> str:
        self._call("commit", host, cid, repo, tag)
        self._box(cid)
        self.images.add((host, f"{repo}:{tag}"))
        return f"sha256:{repo}-{tag}"

    async def gpu_usage(self, host: str) -> list[GpuReading]:
        self._call("gpu_usage", host)
        return list(self.usage.get(host, []))

    def _helper(self, host: str, image: str) -> None:
        if (host, image) not in self.images:
            raise RuntimeFaultError("pull", f"{image} is not on {host}", transient=False)

    async def remove_dir(self, host: str, image: str, root: str, name: str) -> None:
        self._call("remove_dir", host, image, root, name)
        self._helper(host, image)
        self.dirs.discard((host, f"{root}/{name}"))

    async def move_dir(self, host: str, image: str, root: str, name: str, dest_root: str,
                       dest_name: str) -> None:
        self._call("move_dir", host, image, root, name, dest_root, dest_name)
        self._helper(host, image)
        if (host, f"{root}/{name}") in self.dirs:
            self.dirs.discard((host, f"{root}/{name}"))
            self.dirs.add((host, f"{dest_root}/{dest_name}"))

    def running(self) -> list[str]:
        return [cid for cid, b in self.boxes.items() if b.state == "running"]

    # --- student self-service (issue 9): what the image has, restart, keys ---
    missing: dict[str, set[str]] = field(default_factory=dict)  # image ref -> absent programs
    keys: dict[str, list[str]] = field(default_factory=dict)  # cid -> authorized keys

    async def programs(self, host: str, cid: str) -> set[str]:
        self._call("programs", host, cid)
        return {"sshd", "jupyter-lab"} - self.missing.get(self._box(cid).spec.image, set())

    async def restart(self, host: str, cid: str) -> None:
        self._call("restart", host, cid)
        self._box(cid).state = "running"

    async def add_ssh_key(self, host: str, cid: str, key: str) -> None:
        self._call("add_ssh_key", host, cid, key)
        found = self.keys.setdefault(cid, [])
        found.extend([key] if key not in found else [])

    async def remove_ssh_key(self, host: str, cid: str, key: str) -> None:
        self._call("remove_ssh_key", host, cid, key)
        self.keys[cid] = [k for k in self.keys.get(cid, []) if k != key]

    async def lock_password(self, host: str, cid: str) -> None:
        self._call("lock_password", host, cid)

    async def image_programs(self, host: str, image: str) -> set[str] | None:
        self._call("image_programs", host, image)
        if (host, image) not in self.images:
            return None
        return {"sshd", "jupyter-lab"} - self.missing.get(image, set())


def make_config(**lifecycle_cfg: Any) -> Any:
    return parse_config({
        "timezone": "Asia/Shanghai", "language": "en",
        "telegram": {"admins": [ADMIN]},
        "hosts": [{"name": "h1", "gpus": ["0", "1", "2", "3"], "workspace_root": ROOT,
                   "port_range": [20000, 20099]}],
        "lifecycle": lifecycle_cfg,
    })


def make_services(runtime: FakeRuntime | None = None, clock: FrozenClock | None = None,
                  **lifecycle_cfg: Any) -> Services:
    services = Services(config=make_config(**lifecycle_cfg), clock=clock or FrozenClock(START),
                        runtime=runtime or FakeRuntime(), notifier=RecordingNotifier(),
                        tick_seconds=0)
    queries.ensure_hosts([("h1", "127.0.0.1", [(str(i), "H200", 0) for i in range(4)])])
    return services


def student(telegram_id: int = STUDENT) -> User:
    return queries.upsert_user(telegram_id, "Ada", "", "ada", "en", False, START)


async def rent(services: Services, gpus: int = 2, unit: str = "day", quantity: int = 3,
               telegram_id: int = STUDENT) -> Rental:
    """An approved request, provisioned through the real use case."""
    now = services.clock.now()
    price = services.config.prices.plan(gpus, unit).price * quantity
    rental = Rental.create(user=student(telegram_id), state=State.APPROVED.value,
                           image_key="pytorch", image_ref="nvcr.io/nvidia/pytorch:20.12-py3",
                           gpus=gpus, unit=unit, quantity=quantity, price=price,
                           purpose="thesis", created_at=queries.to_db(now),
                           decided_at=queries.to_db(now))
    await provision(services, rental.id)
    return Rental.get_by_id(rental.id)


async def tick_at(services: Services, when: datetime) -> dict[str, Any]:
    assert isinstance(services.clock, FrozenClock)
    services.clock.set(when)
    done = await run_tick(services)
    await services.idle()  # the waitlist's container work runs beside the tick
    return done


def expires(rental: Rental) -> datetime:
    found = queries.from_db(Rental.get_by_id(rental.id).expires_at)
    assert found is not None
    return found


def lifecycle_texts(services: Services, chat_id: int = STUDENT) -> list[str]:
    notifier = services.notifier
    assert isinstance(notifier, RecordingNotifier)
    marks = ("⏰", "⌛", "⚠️", "🗑", "📦", "▶️", "✅ R", "💤")
    return [s.text for s in notifier.to(chat_id) if s.text.startswith(marks)]




# --- reminders ----------------------------------------------------------------------------

async def test_a_three_day_rental_gets_each_reminder_once_with_an_extend_button(
        svc: Services) -> None:
    rental = await rent(svc)
    end = expires(rental)
    moments = [START + timedelta(minutes=1), end - timedelta(hours=24, minutes=1),
               end - timedelta(hours=24), end - timedelta(hours=23), end - timedelta(hours=3),
               end - timedelta(hours=2), end - timedelta(minutes=30), end - timedelta(minutes=29)]
    for moment in moments:
        await tick_at(svc, moment)
        await tick_at(svc, moment)  # a second tick at the same moment adds nothing
    reminders = svc.notifier.to(STUDENT, "⏰")
    assert [r.text.split(" ends in ")[1].split(",")[0] for r in reminders] == [
        "1 d", "3 h", "30 min"]
    assert all(r.data == [cb.EXTEND.build(rental.id)] for r in reminders)
    assert "2026-03-05 09:00" in reminders[0].text  # lab time


async def test_after_downtime_only_the_reminder_still_relevant_is_sent(svc: Services) -> None:
    rental = await rent(svc)
    await tick_at(svc, expires(rental) - timedelta(minutes=10))
    [only] = svc.notifier.to(STUDENT, "⏰")
    assert "ends in 10 min" in only.text


async def test_a_short_rental_is_not_reminded_of_its_whole_length_at_its_start(
        svc: Services) -> None:
    rental = await rent(svc, gpus=1, unit="hour", quantity=3)
    await tick_at(svc, START + timedelta(minutes=1))
    assert svc.notifier.to(STUDENT, "⏰") == []
    await tick_at(svc, expires(rental) - timedelta(minutes=25))
    assert len(svc.notifier.to(STUDENT, "⏰")) == 1


# --- expiry -------------------------------------------------------------------------------

async def test_at_expiry_the_container_is_stopped_gpus_freed_and_ports_kept(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    ports = queries.rental_ports(rental)
    result = await tick_at(svc, expires(rental) + timedelta(seconds=30))
    after = Rental.get_by_id(rental.id)
    assert result["expired"] == 1 and after.state == State.EXPIRED.value
    assert runtime.boxes[after.container_id].state == "exited"  # stopped, not removed
    assert queries.rental_gpus(after) == [] and queries.rental_ports(after) == ports
    [msg] = svc.notifier.to(STUDENT, "⌛")
    assert "2026-03-12 09:00" in msg.text and msg.data == [cb.EXTEND.build(rental.id)]
    await tick_at(svc, expires(rental) + timedelta(minutes=2))
    assert len(svc.notifier.to(STUDENT, "⌛")) == 1


async def test_gpus_freed_at_expiry_go_to_the_waitlist_in_the_same_tick(
        svc: Services) -> None:
    first = await rent(svc)
    await rent(svc, telegram_id=OTHER, quantity=5)
    waiting = await rent(svc, telegram_id=THIRD)
    assert Rental.get_by_id(waiting.id).state == State.QUEUED.value
    await tick_at(svc, expires(first) + timedelta(seconds=1))
    assert Rental.get_by_id(waiting.id).state == State.ACTIVE.value


async def test_a_stop_that_fails_keeps_the_gpus_and_is_retried(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    runtime.fail["stop"] = RuntimeFaultError("unreachable", "host down", transient=True)
    for minutes in (1, 2, 3):
        await tick_at(svc, expires(rental) + timedelta(minutes=minutes))
    assert Rental.get_by_id(rental.id).state == State.ACTIVE.value
    assert len(queries.rental_gpus(rental)) == 2
    assert AuditEvent.select().where(AuditEvent.kind == "stop_failed").count() == 1
    del runtime.fail["stop"]
    await tick_at(svc, expires(rental) + timedelta(minutes=4))
    assert Rental.get_by_id(rental.id).state == State.EXPIRED.value


# --- extension and revival ----------------------------------------------------------------

async def test_extending_a_running_rental_moves_its_end_and_charges_it(svc: Services) -> None:
    rental = await rent(svc)
    end = expires(rental)
    user = student()
    text, buttons = extend.menu(svc, rental.id, user, START)
    assert "until 2026-03-05 09:00" in text
    assert cb.EXTEND_PICK.build(rental.id, "day", 1) in [b.data for row in buttons for b in row]
    done = await extend.apply(svc, rental.id, user, "day", 1, START + timedelta(hours=1))
    assert expires(rental) == end + timedelta(days=1) and not done.revived
    charges = [e.amount for e in ledger.statement(user).entries if e.kind == ledger.CHARGE]
    assert charges == [svc.config.prices.plan(2, "day").price]


async def test_the_extend_menu_offers_the_cheapest_mix_as_a_hint(svc: Services) -> None:
    rental = await rent(svc, gpus=1, unit="hour", quantity=3)
    offer = extend.offer(svc, rental, "hour", 24, "en")
    assert offer.label == "1 day" and offer.price < offer.plain


async def test_an_expired_rental_revives_in_the_same_container_when_its_gpus_are_free(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    cid = rental.container_id
    await tick_at(svc, expires(rental) + timedelta(minutes=1))
    now = expires(rental) + timedelta(hours=5)
    done = await extend.apply(svc, rental.id, student(), "day", 1, now)
    after = Rental.get_by_id(rental.id)
    assert done.revived and after.state == State.ACTIVE.value and after.container_id == cid
    assert runtime.boxes[cid].state == "running" and runtime.named("commit") == []
    assert queries.from_db(after.expires_at) == now + timedelta(days=1)
    assert queries.rental_gpus(after) == ["0", "1"]


async def test_revival_on_other_gpus_commits_and_recreates_with_the_same_ports_and_workspace(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    old = runtime.boxes[rental.container_id].spec
    ports = queries.rental_ports(rental)
    await tick_at(svc, expires(rental) + timedelta(minutes=1))
    await rent(svc, gpus=2, telegram_id=OTHER)  # takes GPUs 0 and 1
    await extend.apply(svc, rental.id, student(), "day", 1, expires(rental) + timedelta(hours=1))
    after = Rental.get_by_id(rental.id)
    new = runtime.boxes[after.container_id].spec
    [commit] = runtime.named("commit")
    assert commit[2] == rental.container_id and new.image == f"{commit[3]}:{commit[4]}"
    assert new.gpu_ids == ("2", "3") and new.ports == ports == old.ports
    assert new.workspace_dir == old.workspace_dir and new.env == {}  # token lives in the image
    assert rental.container_id not in runtime.boxes  # the old one is gone
    assert queries.rental_gpus(after) == ["2", "3"]


async def test_revival_without_free_gpus_is_refused_and_nothing_is_charged(
        svc: Services) -> None:
    rental = await rent(svc)
    await rent(svc, telegram_id=OTHER, quantity=5)
    await tick_at(svc, expires(rental) + timedelta(minutes=1))
    await rent(svc, telegram_id=THIRD, quantity=5)
    with pytest.raises(UserError) as refused:
        await extend.apply(svc, rental.id, student(), "day", 1, expires(rental))
    assert refused.value.key == "life_no_gpus"
    assert Rental.get_by_id(rental.id).state == State.EXPIRED.value
    assert ledger.balance(student()) == 0


async def test_a_failed_restart_leaves_the_rental_expired_with_its_gpus_free(
        svc: Services, runtime: FakeRuntime) -> None:
    rental = await rent(svc)
    await tick_at(svc, expires(rental) + timedelta(minutes=1))
    runtime.fail["wait_ready"] = RuntimeFaultError("not_ready", "no ssh", transient=False)
    with pytest.raises(UserError):
        await extend.apply(svc, rental.id, student(), "day", 1, expires(rental))
    assert Rental.get_by_id(rental.id).state == State.EXPIRED.value
    assert GpuAllocation.select().where(GpuAllocation.released_at.is_null()).count() == 0
    assert runtime.boxes[rental.container_id].state == "exited"


async def test_extending_quiets_reminders_for_marks_already_passed(svc: Services) -> None:
    rental = await rent(svc, gpus=1, unit="hour", quantity=3)
    await extend.apply(svc, rental.id, student(), "hour", 2, START + timedelta(hours=2))
    await tick_at(svc, START + timedelta(hours=2, minutes=1))  # 3 h left: just extended
    assert svc.notifier.to(STUDENT, "⏰") == []


def test_relevant_reminder_is_the_smallest_mark_passed() -> None:
    from bot.usecases.schedule import relevant_offset

    marks = (timedelta(hours=24), timedelta(hours=3), timedelta(minutes=30))
    assert relevant_offset(timedelta(hours=30), marks) is None
    assert relevant_offset(timedelta(hours=20), marks) == timedelta(hours=24)
    assert relevant_offset(timedelta(minutes=10), marks) == timedelta(minutes=30)
    assert relevant_offset(timedelta(minutes=-5), marks) == timedelta(minutes=30)




async def test_the_chat_hears_how_an_extension_went(svc: Services) -> None:
    rental = await rent(svc)
    await tick_at(svc, expires(rental) + timedelta(minutes=1))
    await extend.apply_and_tell(svc, rental.id, student(), "day", 1)
    [revived] = svc.notifier.to(STUDENT, "▶️")
    assert "same address, ports and password" in revived.text
    stranger = student(OTHER)
    await extend.apply_and_tell(svc, rental.id, stranger, "day", 1)
    assert "not yours" in svc.notifier.to(OTHER)[-1].text
