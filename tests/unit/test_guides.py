"""The guides stay true to the code: every config key the loader reads and every key of
gpurent.example.toml is explained in the admin guide, every command in the menus appears in
the guides, in both languages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.menus import CONSOLE_COMMANDS, STUDENT_COMMANDS

ROOT = Path(__file__).resolve().parents[2]
ADMIN_GUIDES = ("docs/admin-guide.md", "docs/admin-guide.zh.md")
STUDENT_GUIDES = ("docs/student-guide.md", "docs/student-guide.zh.md")
# Keys as bot/config reads them: r.get("key", ...), r.whole("key", ...), size(r, "key"), ...
_READ = re.compile(r'(?:\.(?:get|need|whole|number|money|sub|items)|\b_?\w+\(\s*r(?:oot)?,)'
                   r'\(?\s*"([a-z_]+)"')


def loader_keys() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot" / "config").glob("*.py"):
        found |= set(_READ.findall(path.read_text(encoding="utf-8")))
    return found


def example_keys(table: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key, value in table.items():
        found.add(key)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                found |= example_keys(item)
    return found


def unexplained(path: str, keys: set[str]) -> list[str]:
    text = (ROOT / path).read_text(encoding="utf-8")
    forms = ("`{}`", "`[{}]`", "`[[{}]]`")  # a key, or a table's heading
    return sorted(k for k in keys if not any(f.format(k) in text for f in forms))


def test_the_key_reader_finds_the_keys_it_should() -> None:
    keys = loader_keys()
    assert {"timezone", "token_env", "url", "docker_url", "tls_key", "shm_size",
            "summary_time", "max_quantity", "unpaid_reminder_days"} <= keys
    assert "token" not in keys  # refused by the loader, never read


@pytest.mark.parametrize("guide", ADMIN_GUIDES)
def test_every_config_key_is_explained_in_the_admin_guide(guide: str) -> None:
    example = tomllib.loads((ROOT / "gpurent.example.toml").read_text(encoding="utf-8"))
    keys = loader_keys() | example_keys(example)
    missing = unexplained(guide, keys)
    assert not missing, f"explain these config keys in {guide} (as `key`): {missing}"


@pytest.mark.parametrize("guide", ADMIN_GUIDES)
def test_every_admin_command_is_in_the_admin_guide(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    missing = [c for c in CONSOLE_COMMANDS if f"/{c}" not in text]
    assert not missing, f"describe these admin commands in {guide}: {missing}"


@pytest.mark.parametrize("guide", STUDENT_GUIDES)
def test_every_student_command_is_in_the_student_guide(guide: str) -> None:
    text = (ROOT / guide).read_text(encoding="utf-8")
    missing = [c for c in STUDENT_COMMANDS if f"/{c}" not in text]
    assert not missing, f"describe these commands in {guide}: {missing}"
