"""A real crash: `gpurent run` killed with SIGKILL while a rental's container exists but is not
ready yet, then started again. The restart cleans up and provisions once more: one container,
one credentials message, a working login, nothing held twice."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.botemu import BotApiEmulator
from tests.e2e.harness import ADMIN_IDS, PORT_RANGES, TOKEN, approve_next, request_rental
from tests.e2e.sshcheck import credentials_of, ssh
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


def toml_value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def write_lab(path: Path, rig: Rig, emu: BotApiEmulator) -> Path:
    lines = ['timezone = "Asia/Shanghai"', 'language = "en"', "[telegram]",
             'token_env = "GPURENT_RUN_TOKEN"', f'api_base_url = "{emu.base_url}"',
             f'api_file_url = "{emu.base_file_url}"', f"admins = {list(ADMIN_IDS)}",
             "[database]", f'url = "sqlite:///{path.parent / "crash.db"}"',
             "[rental]", "ready_timeout_s = 45",
             f'registry_allow = ["nvcr.io", "{rig.registry}"]',
             "[lifecycle]", "daily_summary = false", "admin_digest = false"]
    for e in rig.engines:
        host = {"name": e.name, "docker_url": e.docker_url, "public_address": e.address,
                "gpus": list(e.gpu_ids), "port_range": PORT_RANGES[e.name],
                "workspace_root": str(e.workspace_root), "shm_size": "64m",
                "memlock": resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]}
        lines += ["[[hosts]]"] + [f"{k} = {toml_value(v)}" for k, v in host.items()]
    lines += ["[[images]]", 'key = "pytorch"', 'name = "PyTorch (NGC 20.12)"',
              'ref = "nvcr.io/nvidia/pytorch:20.12-py3"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def run(config: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "GPURENT_RUN_TOKEN": TOKEN}
    with (config.parent / "run.log").open("ab") as log:  # read back on failure
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--config", str(config), env=env,
            stdout=log, stderr=asyncio.subprocess.STDOUT)


def log_of(config: Path) -> str:
    return (config.parent / "run.log").read_text(encoding="utf-8", errors="replace")[-3000:]


def ours(rig: Rig) -> list[Any]:
    return [c for e in rig.engines for c in e.client().containers.list(
        all=True, filters={"label": "gpurent.rental"})]


async def test_a_bot_killed_mid_provisioning_recovers_with_one_container_and_one_message(
        clean_rig: Rig, emu: BotApiEmulator, tmp_path: Path) -> None:
    config = write_lab(tmp_path / "lab.toml", clean_rig, emu)
    for engine in clean_rig.engines:
        engine.slow_gpu_hook(8)  # a start that hangs: the container exists, not ready
    first = await run(config)
    admin = emu.user(id=ADMIN_IDS[0], first_name="Admin", language_code="en")
    student = emu.user(id=3201, first_name="Kai", language_code="en")
    try:
        await admin.send("/start")
        try:
            await admin.wait_message(contains="Admin", timeout=30)
        except AssertionError:
            raise AssertionError(log_of(config)) from None
        await student.send("/start")
        await student.wait_message(contains="Kai", timeout=30)
        submitted = await request_rental(student)
        await approve_next(admin, submitted.text.split("Request ", 1)[1].split(" ", 1)[0])
        for _ in range(300):
            if ours(clean_rig):
                break
            await asyncio.sleep(0.1)
        assert ours(clean_rig), "the container was never created"
    finally:
        if first.returncode is None:
            first.send_signal(signal.SIGKILL)
        await first.wait()
    for engine in clean_rig.engines:
        engine.slow_gpu_hook(0)
    second = await run(config)
    try:
        try:
            creds = await student.wait_message(contains="Password", timeout=90)
        except AssertionError:
            raise AssertionError(log_of(config)) from None
        login = credentials_of(creds)
        out = await ssh(login["address"], int(login["port"]), login["password"], "echo up")
        assert out.strip() == "up"
        await asyncio.sleep(2)  # anything doubled would show by now
        running = [c for c in ours(clean_rig) if c.status == "running"]
        assert len(ours(clean_rig)) == 1 and len(running) == 1
        assert len([m for m in student.messages if "Password" in m.content]) == 1
    finally:
        if second.returncode is None:
            second.send_signal(signal.SIGINT)
        await asyncio.wait_for(second.wait(), timeout=30)
