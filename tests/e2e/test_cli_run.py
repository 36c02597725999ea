"""`gpurent run` itself, as a separate process: it long-polls the emulator, answers /start,
stops cleanly on SIGINT, and never prints the bot token; a rejected token ends it with one
masked line, and an unreachable Telegram is retried (one plain line each time) until
SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
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


# Shaped like a real token, so that only masking (not luck) keeps it out of the output.
WRONG_TOKEN = "654321:AAGwrongWRONGwrong-secret-part_0123456"


def write_bare_config(path: Path, api_base_url: str) -> Path:
    """No Docker needed: these runs never get past reaching Telegram."""
    path.write_text(
        f'[telegram]\ntoken_env = "GPURENT_RUN_TOKEN"\napi_base_url = "{api_base_url}"\n'
        f'admins = [9001]\n\n[database]\nurl = "sqlite:///{path.parent / "run.db"}"\n\n'
        '[[hosts]]\nname = "nowhere"\ndocker_url = "unix:///nonexistent/docker.sock"\n'
        'gpus = ["0"]\n', encoding="utf-8")
    return path


async def start_run(config: Path, token: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "GPURENT_RUN_TOKEN": token}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "-v", "run", "--config", str(config), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_a_rejected_token_ends_the_run_with_one_masked_line(
        emu: BotApiEmulator, tmp_path: Path) -> None:
    config = write_bare_config(tmp_path / "lab.toml", emu.base_url)
    proc = await start_run(config, WRONG_TOKEN)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    stdout, stderr = out.decode(), err.decode()
    assert proc.returncode == 2, stderr[-2000:]
    for text in (stdout, stderr):
        assert WRONG_TOKEN not in text and WRONG_TOKEN.split(":")[1] not in text
        assert "Traceback" not in text
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("gpurent: Telegram rejected the bot token") and "<bot-token>" in last


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


async def read_until(stream: asyncio.StreamReader, needle: str, count: int) -> str:
    seen = ""
    while seen.count(needle) < count:
        line = await stream.readline()
        assert line, f"the process ended before {count} x {needle!r}:\n{seen[-2000:]}"
        seen += line.decode()
    return seen


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_an_unreachable_telegram_is_retried_until_a_stop_signal(
        tmp_path: Path, stop_signal: signal.Signals) -> None:
    api = f"http://127.0.0.1:{closed_loopback_port()}/bot"
    config = write_bare_config(tmp_path / "lab.toml", api)
    proc = await start_run(config, TOKEN)
    assert proc.stderr is not None
    try:
        seen = await asyncio.wait_for(read_until(proc.stderr, "cannot reach Telegram", 2), 60)
    finally:
        proc.send_signal(stop_signal)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = seen + err.decode() + out.decode()
    assert proc.returncode == 0, log[-2000:]
    line = next(ln for ln in seen.splitlines() if "cannot reach Telegram" in ln)
    assert f"cannot reach Telegram at {api} (proxy: none)" in line
    assert "retrying in 2 s" in line and "[telegram] proxy" in line
    assert "Traceback" not in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


async def test_a_second_run_on_the_same_database_refuses_to_start(
        clean_rig: Rig, emu: BotApiEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path / "lab.toml", clean_rig, emu)
    env = {**os.environ, "GPURENT_RUN_TOKEN": TOKEN}
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--config", str(config), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        student = emu.user(id=1202, first_name="Lu", language_code="en")
        await student.send("/start")
        await student.wait_message(contains="Hello Lu", timeout=30)
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--config", str(config), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(second.communicate(), timeout=30)
        assert second.returncode == 2
        assert "another gpurent" in output.decode()
        await student.send("/help")  # the first one still serves
        await student.wait_message(contains="/request", timeout=30)
    finally:
        first.send_signal(signal.SIGINT)
        await asyncio.wait_for(first.communicate(), timeout=30)
    assert first.returncode == 0
