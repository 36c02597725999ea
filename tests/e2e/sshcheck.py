"""Real SSH logins with the password the bot sent, and the Jupyter stand-in over HTTP."""

from __future__ import annotations

import asyncio
import re
import socket

import paramiko

from tests.botemu import BotMessage


def credentials_of(message: BotMessage) -> dict[str, str]:
    """Address, SSH port, password and Jupyter URL out of the credentials message."""
    text = message.text
    ssh = re.search(r"ssh root@([\d.]+) -p (\d+)", text)
    password = re.search(r"(?:Password|密码)[:：]\s*(\S+)", text)
    url = re.search(r"(http://[\d.]+:\d+/lab\?token=[\w-]+)", text)
    assert ssh and password and url, f"credentials not found in:\n{text}"
    return {"address": ssh.group(1), "port": ssh.group(2), "password": password.group(1),
            "url": url.group(1)}


def ssh_run(address: str, port: int, password: str, command: str) -> str:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(address, port=port, username="root", password=password, timeout=15,
                   allow_agent=False, look_for_keys=False, banner_timeout=15, auth_timeout=15)
    try:
        _, stdout, stderr = client.exec_command(command, timeout=15)
        out = stdout.read().decode()
        code = stdout.channel.recv_exit_status()
        assert code == 0, f"{command!r} exited {code}: {stderr.read().decode()}"
        return out
    finally:
        client.close()


async def ssh(address: str, port: int, password: str, command: str) -> str:
    return await asyncio.to_thread(ssh_run, address, port, password, command)


def http_status_line(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        return conn.recv(256).split(b"\r\n", 1)[0].decode()


def login_fails(address: str, port: int, password: str) -> bool:
    try:
        ssh_run(address, port, password, "true")
    except paramiko.AuthenticationException:
        return True
    return False
