"""`gpurent run` itself, as a separate process: it long-polls the emulator, answers /start,
stops cleanly on SIGINT, and never prints the bot token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.botemu import BotApiEmulator
from tests.e2e.harness import TOKEN
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.e2e]


def write_config(path: Path, rig: Rig, emu: BotApiEmulator) -> Path:
    hosts = "".join(
        f'[[hosts]]\nname = "{e.name}"\ndocker_url = "{e.docker_url}"\n'
        f'public_address = "{e.address}"\ngpus = ["0", "1"]\n\n' for e in rig.engines)
    path.write_text(
        f'[telegram]\ntoken_env = "GPURENT_RUN_TOKEN"\napi_base_url = "{emu.base_url}"\n'
        f'api_file_url = "{emu.base_file_url}"\nadmins = [9001]\n\n'
        f'[database]\nurl = "sqlite:///{path.parent / "run.db"}"\n\n' + hosts,
        encoding="utf-8")
    return path


async def test_gpurent_run_answers_and_keeps_the_token_secret(
        clean_rig: Rig, emu: BotApiEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab.toml", clean_rig, emu)
    env = {**os.environ, "GPURENT_RUN_TOKEN": TOKEN}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "-v", "run", "--config", str(config), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        student = emu.user(id=1201, first_name="Ma", language_code="en")
        await student.send("/start")
        await student.wait_message(contains="Hello Ma", timeout=30)
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = output.decode()
    assert proc.returncode == 0, log[-2000:]
    assert "bot started as @" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert (tmp_path / "run.db").exists()
